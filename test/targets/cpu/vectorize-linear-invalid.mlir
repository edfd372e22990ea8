// RUN: llm-opt %s --llm-cpu-vectorize-linear="rows=0" --verify-diagnostics

// expected-error @below {{llm-cpu-vectorize-linear: rows must be at least 1, got 0}}
module {
}
