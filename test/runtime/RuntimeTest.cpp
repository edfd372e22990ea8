//===- RuntimeTest.cpp - the runtime against bad artifacts and bad calls --===//
//
//   llmc-runtime-tests MODEL.llmc [gtest flags]
//
// MODEL.llmc is a generative artifact (lit compiles one). The tests write
// corrupted copies of it and check that opening them fails with an error
// naming the problem, and that bad calls on a session fail and leave it
// usable. Run under AddressSanitizer in CI.
//
//===----------------------------------------------------------------------===//

#include "llmc/runtime.h"
#include "runtime/ArtifactFormat.h"
#include "runtime/CpuFeatures.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string artifactPath;

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Writes `bytes` to a temporary file and tries to open it.
llmc_status openBytes(const std::string &bytes, std::string &message) {
  char path[] = "/tmp/llmc-runtime-test-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  FILE *f = fdopen(fd, "wb");
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  llmc_artifact *artifact = nullptr;
  llmc_status status = llmc_artifact_open(path, &artifact);
  message = llmc_last_error();
  llmc_artifact_close(artifact);
  std::remove(path);
  return status;
}

void put64(std::string &bytes, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    bytes[at + i] = static_cast<char>(v >> (8 * i));
}

uint32_t get32(const std::string &bytes, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= uint32_t(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
  return v;
}

uint64_t get64(const std::string &bytes, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= uint64_t(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
  return v;
}

namespace fmt = llmc::artifact;

/// Offset of section i's entry field.
size_t entryField(int i, size_t field) {
  return sizeof(fmt::FileHeader) + i * sizeof(fmt::SectionEntry) + field;
}

class BadArtifact : public ::testing::Test {
protected:
  void SetUp() override { bytes = readFile(artifactPath); }
  void expectRejected(const std::string &bytes, const char *needle) {
    std::string message;
    EXPECT_EQ(openBytes(bytes, message), LLMC_ERROR_INVALID_ARTIFACT)
        << message;
    EXPECT_NE(message.find(needle), std::string::npos) << message;
  }
  std::string bytes;
};

TEST_F(BadArtifact, TheGoodOneOpens) {
  std::string message;
  EXPECT_EQ(openBytes(bytes, message), LLMC_OK) << message;
}

// Code compiled for a feature this CPU lacks is refused at open (it would
// die of SIGILL in its first call): one of the artifact's disabled
// features ("-name") that this CPU lacks is flipped to "+name".
TEST_F(BadArtifact, CodeForFeaturesThisCpuLacks) {
  std::string flipped;
  for (size_t at = bytes.find(",-"); at != std::string::npos;
       at = bytes.find(",-", at + 1)) {
    size_t end = bytes.find_first_of(",\"", at + 2);
    std::string name = bytes.substr(at + 2, end - at - 2);
    if (!llmc::runtime::missingCpuFeatures("+" + name).empty()) {
      bytes[at + 1] = '+';
      flipped = name;
      break;
    }
  }
  if (flipped.empty())
    GTEST_SKIP() << "this CPU has every feature the runtime checks";
  std::string message;
  EXPECT_EQ(openBytes(bytes, message), LLMC_ERROR_UNSUPPORTED) << message;
  EXPECT_NE(message.find("compiled for features this CPU does not have (" +
                         flipped + ")"),
            std::string::npos)
      << message;
}

TEST(CpuFeatures, OnlyEnabledKnownFeaturesAreChecked) {
  // Disabled and unknown features are never missing.
  EXPECT_TRUE(llmc::runtime::missingCpuFeatures(
                  "-avx512f,-avx512fp16,+not-a-feature,,+")
                  .empty());
  // The baseline every x86-64 CPU has.
  EXPECT_TRUE(llmc::runtime::missingCpuFeatures("+sse4.2").empty() ||
              !__builtin_cpu_supports("sse4.2"));
}

TEST_F(BadArtifact, Truncated) {
  expectRejected(bytes.substr(0, bytes.size() - 100), "truncated");
  expectRejected(bytes.substr(0, 10), "shorter than the artifact header");
}

TEST_F(BadArtifact, WrongMagic) {
  bytes[0] = 'X';
  expectRejected(bytes, "wrong magic");
}

TEST_F(BadArtifact, WrongVersion) {
  bytes[offsetof(fmt::FileHeader, version)] = 99;
  expectRejected(bytes, "version 99");
}

TEST_F(BadArtifact, SectionOutsideTheFile) {
  put64(bytes, entryField(2, offsetof(fmt::SectionEntry, offset)),
        bytes.size() + 4096);
  expectRejected(bytes, "outside the file");
}

TEST_F(BadArtifact, SectionSizeWrapsAround) {
  put64(bytes, entryField(1, offsetof(fmt::SectionEntry, size)),
        ~uint64_t(0) - 100);
  expectRejected(bytes, "outside the file");
}

TEST_F(BadArtifact, TooManySections) {
  bytes[offsetof(fmt::FileHeader, sectionCount)] = 100;
  expectRejected(bytes, "100 sections");
}

TEST_F(BadArtifact, ManifestNotJson) {
  uint64_t manifest =
      get64(bytes, entryField(0, offsetof(fmt::SectionEntry, offset)));
  bytes[manifest] = '#';
  expectRejected(bytes, "not valid JSON");
}

TEST_F(BadArtifact, WeightOutOfRange) {
  // Make the last weight's offset all nines: past the weights section.
  uint64_t at =
      get64(bytes, entryField(0, offsetof(fmt::SectionEntry, offset)));
  uint64_t size =
      get64(bytes, entryField(0, offsetof(fmt::SectionEntry, size)));
  std::string manifest = bytes.substr(at, size);
  size_t key = manifest.rfind("\"offset\": ");
  ASSERT_NE(key, std::string::npos);
  size_t digit = key + std::strlen("\"offset\": ");
  while (manifest[digit] >= '0' && manifest[digit] <= '9')
    bytes[at + digit++] = '9';
  expectRejected(bytes, "outside the weights section");
}

TEST_F(BadArtifact, KVCacheBitsUnsupported) {
  // "bits": 32 of the f32 KV cache becomes 16: neither f32 nor 8/4-bit
  // codes (same length, so the sections stay in place).
  uint64_t at =
      get64(bytes, entryField(0, offsetof(fmt::SectionEntry, offset)));
  uint64_t size =
      get64(bytes, entryField(0, offsetof(fmt::SectionEntry, size)));
  size_t key = bytes.substr(at, size).find("\"bits\": 32");
  ASSERT_NE(key, std::string::npos);
  bytes[at + key + std::strlen("\"bits\": ")] = '1';
  bytes[at + key + std::strlen("\"bits\": 3")] = '6';
  expectRejected(bytes, "kv_cache.bits must be 32, 8 or 4, got 16");
}

TEST_F(BadArtifact, CodeIsNotElf) {
  uint64_t code =
      get64(bytes, entryField(1, offsetof(fmt::SectionEntry, offset)));
  bytes[code + 1] = 'X';
  expectRejected(bytes, "not an ELF shared object");
}

TEST_F(BadArtifact, Missing) {
  llmc_artifact *artifact = nullptr;
  EXPECT_EQ(llmc_artifact_open("/nonexistent/model.llmc", &artifact),
            LLMC_ERROR_IO);
  EXPECT_EQ(artifact, nullptr);
}

class SessionTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(llmc_artifact_open(artifactPath.c_str(), &artifact), LLMC_OK)
        << llmc_last_error();
    vocab = llmc_artifact_vocab_size(artifact);
    llmc_session_options options = {1, 4, 1};
    ASSERT_EQ(llmc_session_create(artifact, &options, &session), LLMC_OK)
        << llmc_last_error();
  }
  void TearDown() override {
    llmc_session_destroy(session);
    llmc_artifact_close(artifact);
  }
  llmc_artifact *artifact = nullptr;
  llmc_session *session = nullptr;
  int64_t vocab = 0;
};

TEST_F(SessionTest, PromptLongerThanMaxSeqLeavesTheSessionUsable) {
  int64_t tokens[5] = {1, 2, 3, 4, 5};
  EXPECT_EQ(llmc_session_prefill(session, tokens, nullptr, 5, nullptr),
            LLMC_ERROR_OUT_OF_RANGE);
  EXPECT_NE(std::string(llmc_last_error()).find("max_seq 4"),
            std::string::npos);
  EXPECT_EQ(llmc_session_position(session), 0);
  std::vector<float> logits(3 * vocab);
  ASSERT_EQ(llmc_session_prefill(session, tokens, nullptr, 3, logits.data()),
            LLMC_OK)
      << llmc_last_error();
  int64_t next = 7;
  EXPECT_EQ(llmc_session_decode(session, &next, nullptr), LLMC_OK);
  EXPECT_EQ(llmc_session_decode(session, &next, nullptr),
            LLMC_ERROR_OUT_OF_RANGE);
  EXPECT_EQ(llmc_session_position(session), 4);
  // After a reset the same prompt gives the same logits.
  std::vector<float> again(3 * vocab);
  ASSERT_EQ(llmc_session_reset(session), LLMC_OK);
  ASSERT_EQ(llmc_session_prefill(session, tokens, nullptr, 3, again.data()),
            LLMC_OK);
  EXPECT_EQ(logits, again);
}

/// Logits of a 3-token prefill through a fresh artifact and session.
std::vector<float> prefillLogits() {
  llmc_artifact *artifact = nullptr;
  EXPECT_EQ(llmc_artifact_open(artifactPath.c_str(), &artifact), LLMC_OK)
      << llmc_last_error();
  int64_t vocab = llmc_artifact_vocab_size(artifact);
  llmc_session_options options = {1, 4, 1};
  llmc_session *session = nullptr;
  EXPECT_EQ(llmc_session_create(artifact, &options, &session), LLMC_OK);
  int64_t tokens[3] = {1, 2, 3};
  std::vector<float> logits(3 * vocab);
  EXPECT_EQ(llmc_session_prefill(session, tokens, nullptr, 3, logits.data()),
            LLMC_OK);
  llmc_session_destroy(session);
  llmc_artifact_close(artifact);
  return logits;
}

// Weights copied into huge pages (forced here; automatic from 64 MiB) give
// the same logits as weights read from the file mapping.
TEST(Weights, HugePagesGiveTheSameLogits) {
  setenv("LLMC_HUGE_PAGES", "0", 1);
  std::vector<float> mapped = prefillLogits();
  setenv("LLMC_HUGE_PAGES", "1", 1);
  std::vector<float> copied = prefillLogits();
  unsetenv("LLMC_HUGE_PAGES");
  ASSERT_FALSE(mapped.empty());
  EXPECT_EQ(mapped, copied);
}

TEST_F(SessionTest, TokenOutsideTheVocabulary) {
  int64_t tokens[2] = {1, vocab};
  EXPECT_EQ(llmc_session_prefill(session, tokens, nullptr, 2, nullptr),
            LLMC_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llmc_last_error()).find("outside the vocabulary"),
            std::string::npos);
  int64_t negative = -1;
  EXPECT_EQ(llmc_session_decode(session, &negative, nullptr),
            LLMC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(llmc_session_position(session), 0);
}

TEST_F(SessionTest, BadArguments) {
  int64_t tokens[2] = {1, 2};
  int64_t badLength = 3;
  EXPECT_EQ(llmc_session_prefill(session, nullptr, nullptr, 2, nullptr),
            LLMC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(llmc_session_prefill(session, tokens, &badLength, 2, nullptr),
            LLMC_ERROR_INVALID_ARGUMENT);
  llmc_sampling sampling = {0.0f, 0, 1.0f, 0};
  int64_t out = 0;
  EXPECT_EQ(llmc_session_sample(session, &sampling, &out),
            LLMC_ERROR_INVALID_ARGUMENT); // nothing to sample from yet
  llmc_session_options options = {0, 4, 1};
  llmc_session *other = nullptr;
  EXPECT_EQ(llmc_session_create(artifact, &options, &other),
            LLMC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(other, nullptr);
  options = {1, int64_t(1) << 40, 1};
  EXPECT_NE(llmc_session_create(artifact, &options, &other), LLMC_OK);
  EXPECT_EQ(llmc_session_load_kv(session, nullptr, nullptr, nullptr, 1),
            LLMC_ERROR_INVALID_ARGUMENT);
}

TEST_F(SessionTest, Sampling) {
  int64_t tokens[3] = {1, 2, 3};
  std::vector<float> logits(3 * vocab);
  ASSERT_EQ(llmc_session_prefill(session, tokens, nullptr, 3, logits.data()),
            LLMC_OK);
  const float *last = &logits[2 * vocab];
  int64_t argmax = 0;
  for (int64_t v = 1; v < vocab; ++v)
    if (last[v] > last[argmax])
      argmax = v;
  llmc_sampling greedy = {0.0f, 0, 1.0f, 0};
  int64_t token = -1;
  ASSERT_EQ(llmc_session_sample(session, &greedy, &token), LLMC_OK);
  EXPECT_EQ(token, argmax);
  // top_k = 1 is greedy at any temperature.
  llmc_sampling topOne = {5.0f, 1, 1.0f, 3};
  ASSERT_EQ(llmc_session_sample(session, &topOne, &token), LLMC_OK);
  EXPECT_EQ(token, argmax);
  // A tiny nucleus keeps only the most likely token.
  llmc_sampling nucleus = {1.0f, 0, 1e-6f, 3};
  ASSERT_EQ(llmc_session_sample(session, &nucleus, &token), LLMC_OK);
  EXPECT_EQ(token, argmax);
  // The same seed gives the same draws; draws stay in the top k.
  llmc_sampling hot = {2.0f, 8, 0.9f, 42};
  std::vector<int64_t> first, second;
  for (int round = 0; round < 2; ++round) {
    ASSERT_EQ(llmc_session_reset(session), LLMC_OK);
    ASSERT_EQ(llmc_session_prefill(session, tokens, nullptr, 3, nullptr),
              LLMC_OK);
    auto &draws = round == 0 ? first : second;
    for (int i = 0; i < 20; ++i) {
      ASSERT_EQ(llmc_session_sample(session, &hot, &token), LLMC_OK);
      draws.push_back(token);
    }
  }
  EXPECT_EQ(first, second);
  std::vector<float> sorted(last, last + vocab);
  std::sort(sorted.begin(), sorted.end(), std::greater<float>());
  for (int64_t t : first)
    EXPECT_GE(last[t], sorted[7]);
  llmc_sampling bad = {-1.0f, 0, 1.0f, 0};
  EXPECT_EQ(llmc_session_sample(session, &bad, &token),
            LLMC_ERROR_INVALID_ARGUMENT);
  bad = {1.0f, 0, 0.0f, 0};
  EXPECT_EQ(llmc_session_sample(session, &bad, &token),
            LLMC_ERROR_INVALID_ARGUMENT);
}

/// An artifact compiled for a machine (its 4th section holds the device
/// programs); the tests are skipped without one.
std::string deviceArtifactPath;

class BadDevicePrograms : public BadArtifact {
protected:
  void SetUp() override {
    if (deviceArtifactPath.empty())
      GTEST_SKIP() << "no device artifact given";
    bytes = readFile(deviceArtifactPath);
    section = get64(bytes, entryField(3, offsetof(fmt::SectionEntry, offset)));
  }
  /// Where program i's bytes start.
  uint64_t program(int i) const {
    return section + get64(bytes, section + 16 * i + 8);
  }
  uint64_t section = 0;
};

TEST_F(BadDevicePrograms, TheGoodOneOpensAndRuns) {
  std::string message;
  ASSERT_EQ(openBytes(bytes, message), LLMC_OK) << message;
  ASSERT_EQ(get32(bytes, entryField(3, offsetof(fmt::SectionEntry, kind))),
            uint32_t(fmt::SectionKind::DevicePrograms));
}

TEST_F(BadDevicePrograms, CorruptProgram) {
  bytes[program(0)] = 'X';
  expectRejected(bytes, "device programs: program 0: device program: bad "
                        "magic (not an LLMCDEVP program)");
  bytes = readFile(deviceArtifactPath);
  bytes[program(1) + 8] = 2; // version
  expectRejected(bytes, "program 1: device program: unsupported version 2");
}

TEST_F(BadDevicePrograms, ProgramOutsideTheSection) {
  put64(bytes, section + 8, uint64_t(1) << 40);
  expectRejected(bytes, "device programs: program 0 [1099511627776");
}

TEST_F(BadDevicePrograms, SectionMissing) {
  // Three sections: the manifest still lists the programs.
  bytes[offsetof(fmt::FileHeader, sectionCount)] = 3;
  expectRejected(bytes, "device programs: the section has 0 programs, the "
                        "manifest lists");
}

TEST_F(BadDevicePrograms, ProgramOfAnotherDevice) {
  // The first program is the NPU's; the manifest says PIM (same length).
  uint64_t at =
      get64(bytes, entryField(0, offsetof(fmt::SectionEntry, offset)));
  uint64_t size =
      get64(bytes, entryField(0, offsetof(fmt::SectionEntry, size)));
  size_t key = bytes.substr(at, size).find("\"device\": \"npu\"");
  ASSERT_NE(key, std::string::npos);
  bytes.replace(at + key, 15, "\"device\": \"pim\"");
  expectRejected(bytes, "program 0 is a npu program, the manifest says pim");
}

} // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr,
                 "usage: llmc-runtime-tests MODEL.llmc [DEVICES.llmc]\n");
    return 2;
  }
  artifactPath = argv[1];
  if (argc == 3)
    deviceArtifactPath = argv[2];
  return RUN_ALL_TESTS();
}
