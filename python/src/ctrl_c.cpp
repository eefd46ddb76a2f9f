// python/src/ctrl_c.cpp - Ctrl-C (SIGINT) during a qifsim call from Python (see ctrl_c.hpp).
#include "ctrl_c.hpp"

#include <nanobind/nanobind.h>

#include <Python.h>
#include <pythread.h>
#include <signal.h>

#include <exception>

namespace nb = nanobind;

namespace qifsim::python {
namespace {

std::atomic<bool> g_flag{false};
// The spans' state: changed with the GIL held, by the thread that owns the outermost span.
int g_depth = 0;
unsigned long g_owner = 0;
unsigned long g_main_thread = 0;  // set when the module is imported
struct sigaction g_python_handler {};

extern "C" void on_sigint(int) { g_flag.store(true, std::memory_order_relaxed); }

/// SIGINT is Python's default KeyboardInterrupt here: the main thread, with
/// signal.default_int_handler in force. Only C functions are called (no Python bytecode
/// runs, so no pending signal handler runs before the span has taken SIGINT over).
bool python_default_sigint() {
  if (PyThread_get_thread_ident() != g_main_thread) return false;
  nb::module_ signal_module = nb::module_::import_("signal");
  return signal_module.attr("getsignal")(SIGINT).is(signal_module.attr("default_int_handler"));
}

}  // namespace

void init_ctrl_c() {
  g_main_thread = nb::cast<unsigned long>(nb::module_::import_("threading").attr("main_thread")().attr("ident"));
}

CtrlCSpan::CtrlCSpan() {
  if (g_depth > 0) {
    // Inside another span: shared when it is this thread's.
    if (g_owner == PyThread_get_thread_ident()) {
      ++g_depth;
      active_ = true;
    }
    return;
  }
  if (!python_default_sigint()) return;
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sa.sa_flags = SA_RESTART | SA_ONSTACK;  // no EINTR in the engine's threads
  sigemptyset(&sa.sa_mask);
  g_flag.store(false);
  if (sigaction(SIGINT, &sa, &g_python_handler) != 0) return;
  g_depth = 1;
  g_owner = PyThread_get_thread_ident();
  active_ = true;
  // A SIGINT Python caught before the handler changed, but has not acted on yet, counts as
  // one in this span: it must not surface as a bare KeyboardInterrupt at some later line.
  if (PyErr_CheckSignals() != 0) {
    if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
      PyErr_Clear();
      g_flag.store(true);
    } else {
      leave();
      throw nb::python_error();
    }
  }
}

CtrlCSpan::~CtrlCSpan() {
  // A Ctrl-C nobody answered goes back to Python: never lost, raised at the next line. One
  // that came during a failing call goes with the error.
  if (leave() && std::uncaught_exceptions() == 0) PyErr_SetInterrupt();
}

const std::atomic<bool>* CtrlCSpan::flag() const { return active_ && !left_ ? &g_flag : nullptr; }

bool CtrlCSpan::pending() const { return active_ && !left_ && g_flag.load(); }

void CtrlCSpan::take() { g_flag.store(false); }

bool CtrlCSpan::leave() {
  if (!active_ || left_) return false;
  left_ = true;
  if (--g_depth > 0) return false;
  sigaction(SIGINT, &g_python_handler, nullptr);
  // From here on SIGINT is Python's again; what came before is in the flag.
  return g_flag.exchange(false);
}

void raise_keyboard_interrupt(const std::string& message) {
  PyErr_SetString(PyExc_KeyboardInterrupt, message.c_str());
  throw nb::python_error();
}

}  // namespace qifsim::python
