# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "LLMC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs", "unit"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.llmc_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%llmc_src", config.llmc_src_root))
config.substitutions.append(("%llmc_obj", config.llmc_obj_root))
config.substitutions.append(("%models", os.path.join(config.llmc_src_root, "examples", "models")))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP", "ASAN_OPTIONS"])
llvm_config.use_default_substitutions()

tool_dirs = [config.llmc_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["llm-opt", "llm-translate", "llm-compile", "llm-run",
                                    "llm-moe-balance",
                                    "llmc-capi-test", "llmc-conformance", "llmc-model-check", "llmc-kv-predict-check",
                                    "llmc-runtime-tests", "llmc-compile-capi-test",
                                    "llmc-embed-example"], tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# The JIT path of the end-to-end tests: llm-cpu-to-llvm (upstream passes
# from linalg to LLVM), then mlir-runner with MLIR's runtime libraries.
config.substitutions.append(("%llmc_jit_lowering", "--llm-cpu-to-llvm"))
runner_libs = ",".join(os.path.join(config.llvm_tools_dir, "..", "lib", lib) for lib in
                       ("libmlir_c_runner_utils.so", "libmlir_runner_utils.so"))
config.substitutions.append(("%mlir_runner", os.path.join(config.llvm_tools_dir, "mlir-runner") +
                             " -e entry -entry-point-result=void -O2 -shared-libs=" + runner_libs))
