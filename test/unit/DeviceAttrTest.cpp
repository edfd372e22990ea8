//===- DeviceAttrTest.cpp - #llm.device parsing, printing, verification ---===//

#include "dialects/llm/LLMOps.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;

namespace {

class DeviceAttrTest : public ::testing::Test {
protected:
  DeviceAttrTest() { ctx.loadDialect<llm::LLMDialect>(); }

  std::string print(Attribute attr) {
    std::string s;
    llvm::raw_string_ostream os(s);
    attr.print(os);
    return s;
  }

  MLIRContext ctx;
};

TEST_F(DeviceAttrTest, DefaultIndexIsZeroAndNotPrinted) {
  auto attr = llm::DeviceAttr::get(&ctx, "npu", 0);
  EXPECT_EQ(attr.getKind(), "npu");
  EXPECT_EQ(attr.getIndex(), 0);
  EXPECT_EQ(print(attr), "#llm.device<\"npu\">");
}

TEST_F(DeviceAttrTest, RoundTripsThroughTheParser) {
  for (const char *text : {"#llm.device<\"cpu\">", "#llm.device<\"pim\", 3>",
                           "#llm.device<\"wafer-mesh_2\">"}) {
    Attribute parsed = parseAttribute(text, &ctx);
    ASSERT_TRUE(parsed) << text;
    EXPECT_TRUE(isa<llm::DeviceAttr>(parsed));
    EXPECT_EQ(print(parsed), text);
  }
}

TEST_F(DeviceAttrTest, EqualDevicesAreUniqued) {
  EXPECT_EQ(llm::DeviceAttr::get(&ctx, "pim", 1),
            llm::DeviceAttr::get(&ctx, "pim", 1));
  EXPECT_NE(llm::DeviceAttr::get(&ctx, "pim", 1),
            llm::DeviceAttr::get(&ctx, "pim", 0));
}

TEST_F(DeviceAttrTest, InvalidDevicesAreRejectedWithAReason) {
  std::string message;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  EXPECT_FALSE(parseAttribute("#llm.device<\"\">", &ctx));
  EXPECT_EQ(message, "device kind must not be empty");
  EXPECT_FALSE(parseAttribute("#llm.device<\"npu\", -1>", &ctx));
  EXPECT_EQ(message, "device index must be non-negative, got -1");
  EXPECT_FALSE(parseAttribute("#llm.device<\"n pu\">", &ctx));
  EXPECT_EQ(message,
            "device kind 'n pu' may only contain letters, digits, '_' and '-'");
}

} // namespace
