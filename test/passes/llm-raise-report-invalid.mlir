// RUN: llm-opt %s --llm-raise-report=file=%t.missing/dir/report.txt -verify-diagnostics -o /dev/null

// expected-error @+1 {{llm-raise-report: cannot write}}
module {
  func.func @f() {
    return
  }
}
