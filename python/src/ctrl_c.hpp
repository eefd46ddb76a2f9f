// python/src/ctrl_c.hpp - Ctrl-C (SIGINT) during a qifsim call from Python.
//
// While the engine runs, the GIL is released and Python's own SIGINT handling cannot act: it
// would only raise KeyboardInterrupt after the run. So for the span of a call (Network.run,
// run_config, and the Python code around them) SIGINT goes to a C handler that sets one flag;
// the run stops at its next step boundary, and the call raises KeyboardInterrupt with what
// it recorded. A SIGINT anywhere in that span is seen exactly once: none reaches Python
// afterwards, and one that was pending in Python when the span began counts as arriving in it.
//
// Spans nest (run() inside test() inside a user's helper): the outermost installs the handler
// and puts Python's back; inner ones share the flag. Only the main thread with Python's
// default SIGINT handler in force takes part (another handler is the user's choice; other
// threads never see SIGINT in Python). All of it runs with the GIL held.
#pragma once

#include <atomic>
#include <string>

namespace qifsim::python {

/// One span (RAII). active(): SIGINT is ours during it.
class CtrlCSpan {
 public:
  /// Throws nanobind::python_error if a pending Python signal handler raised something
  /// other than KeyboardInterrupt (the span is then not entered).
  CtrlCSpan();
  ~CtrlCSpan();
  CtrlCSpan(const CtrlCSpan&) = delete;
  CtrlCSpan& operator=(const CtrlCSpan&) = delete;

  bool active() const { return active_; }
  /// The flag a run polls (RunOptions::stop), or nullptr when the span is not active.
  const std::atomic<bool>* flag() const;
  /// Whether a Ctrl-C came in this span (or an enclosing one) and was not yet answered.
  bool pending() const;
  /// Answer it: clears the flag (the caller raises KeyboardInterrupt).
  void take();
  /// Leave the span early (the destructor then does nothing); true when a Ctrl-C came in it
  /// that nobody answered and this was the outermost span.
  bool leave();

 private:
  bool active_ = false;
  bool left_ = false;
};

/// Once, when the module is imported: which thread is Python's main thread.
void init_ctrl_c();

/// Raise KeyboardInterrupt with `message` (sets the Python error and throws python_error).
[[noreturn]] void raise_keyboard_interrupt(const std::string& message);

}  // namespace qifsim::python
