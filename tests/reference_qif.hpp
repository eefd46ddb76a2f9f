// tests/reference_qif.hpp - a naive float64 reference of /work/shared/spec/semantics.md.
//
// Written from the spec with plain loops; it uses no qifsim code (only the standard
// library), so a test that compares the engine with it compares two independent readings
// of the same specification.
//
//   One step, from the state (v, s, x) at the step's start, input I:
//     spike_i = v_i >= v_th_i
//     s_in_i  = sum_j J_ij s_j
//     v_i    <- v_i + dt * ((v_i^2 + (eta_i - x_i) + I_i) / tau_i + k_i * s_in_i)
//     s_i    <- s_i + dt * (-s_i / tau_s_i) + spike_i
//     x_i    <- x_i + dt * (-x_i / tau_x_i) + alpha_i * spike_i        (adaptation only)
//     v_i    <- v_reset_i where spike_i
//   Output of the step: the output variable (s, or v) at the step's start.
//
//   Observer run (T steps, sampling_steps S, cutoff C): a sample at step t when t >= C and
//   t % S == 0; its output is the mean of y over the steps from C (first sample) or from the
//   step after the previous sample, through t; its variables are the values at the start
//   of step t (averaged over neurons for a mean variable).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ref {

/// Parameters of one QIF population; every per-neuron vector has N entries.
struct QifParams {
  int n = 1;
  std::vector<double> J;  ///< N*N row-major (row i = weights onto neuron i), or empty
  std::vector<double> eta, tau, k, tau_s, v0, s0, v_th, v_reset;
  bool adaptation = false;
  std::vector<double> alpha, tau_x, x0;
  bool output_v = false;  ///< output "v" instead of "s"

  /// RectiPy's defaults for N neurons (eta -5, tau 1, k 1, tau_s 1, v0 -2, s0 0,
  /// v_th 100, v_reset -100, alpha 1, tau_x 10, x0 0).
  static QifParams defaults(int n) {
    QifParams p;
    p.n = n;
    const auto un = static_cast<std::size_t>(n);
    p.eta.assign(un, -5.0);
    p.tau.assign(un, 1.0);
    p.k.assign(un, 1.0);
    p.tau_s.assign(un, 1.0);
    p.v0.assign(un, -2.0);
    p.s0.assign(un, 0.0);
    p.v_th.assign(un, 100.0);
    p.v_reset.assign(un, -100.0);
    p.alpha.assign(un, 1.0);
    p.tau_x.assign(un, 10.0);
    p.x0.assign(un, 0.0);
    return p;
  }
};

/// A naive QIF population.
class QifPop {
 public:
  explicit QifPop(QifParams p) : p_(std::move(p)) { reset(); }

  void reset() {
    v = p_.v0;
    s = p_.s0;
    x = p_.adaptation ? p_.x0 : std::vector<double>(static_cast<std::size_t>(p_.n), 0.0);
    s_in.assign(static_cast<std::size_t>(p_.n), 0.0);
    I_ext.assign(static_cast<std::size_t>(p_.n), 0.0);
    spikes_total = 0;
  }

  int n() const { return p_.n; }
  const QifParams& params() const { return p_; }
  QifParams& params() { return p_; }

  /// The output variable now (= at the start of the next step).
  std::vector<double> output() const { return p_.output_v ? v : s; }

  /// spike_i = v_i >= v_th_i, for the current state.
  std::vector<double> spike() const {
    std::vector<double> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = v[i] >= p_.v_th[i] ? 1.0 : 0.0;
    return out;
  }

  /// spike_i / dt: what `spike` reads and records (RectiPy's delta, a rate in 1/time).
  std::vector<double> spike_delta(double dt) const {
    std::vector<double> out = spike();
    for (double& value : out) value = value / dt;
    return out;
  }

  /// Current value of a state variable: "v", "s", "x", "spike" (spike / dt), "s_in", "I_ext".
  std::vector<double> var(const std::string& name, double dt) const {
    if (name == "v") return v;
    if (name == "s") return s;
    if (name == "x") return x;
    if (name == "spike") return spike_delta(dt);
    if (name == "s_in") return s_in;
    if (name == "I_ext") return I_ext;
    throw std::runtime_error("reference: unknown variable " + name);
  }

  /// One step with input I (N values); returns the output at the step's start.
  std::vector<double> step(const std::vector<double>& I, double dt) {
    const std::size_t n = static_cast<std::size_t>(p_.n);
    if (I.size() != n) throw std::runtime_error("reference: input size");
    std::vector<double> y = output();
    // 1. spike from the state at the step's start
    std::vector<double> spk = spike();
    // 2. s_in = J s
    for (std::size_t i = 0; i < n; ++i) {
      double acc = 0.0;
      if (!p_.J.empty()) {
        for (std::size_t j = 0; j < n; ++j) acc += p_.J[i * n + j] * s[j];
      }
      s_in[i] = acc;
      I_ext[i] = I[i];
    }
    for (std::size_t i = 0; i < n; ++i) {
      const double eta_eff = p_.adaptation ? p_.eta[i] - x[i] : p_.eta[i];
      // 3. Euler step of v
      const double dv = (v[i] * v[i] + eta_eff + I[i]) / p_.tau[i] + p_.k[i] * s_in[i];
      v[i] = v[i] + dt * dv;
      // 4. synapse
      s[i] = s[i] + dt * (-s[i] / p_.tau_s[i]) + spk[i];
      // adaptation
      if (p_.adaptation) x[i] = x[i] + dt * (-x[i] / p_.tau_x[i]) + p_.alpha[i] * spk[i];
      // 5. reset
      if (spk[i] != 0.0) {
        v[i] = p_.v_reset[i];
        ++spikes_total;
      }
    }
    return y;
  }

  std::vector<double> v, s, x, s_in, I_ext;
  long spikes_total = 0;

 private:
  QifParams p_;
};

// ---------------------------------------------------------------------------------------
// Activations, by their definitions.
enum class Act { Identity, Tanh, Sigmoid, Softmax, Softmin, LogSoftmax };

inline std::vector<double> activate(Act a, const std::vector<double>& z) {
  std::vector<double> out(z.size());
  switch (a) {
    case Act::Identity:
      return z;
    case Act::Tanh:
      for (std::size_t i = 0; i < z.size(); ++i) out[i] = std::tanh(z[i]);
      return out;
    case Act::Sigmoid:
      for (std::size_t i = 0; i < z.size(); ++i) out[i] = 1.0 / (1.0 + std::exp(-z[i]));
      return out;
    case Act::Softmax:
    case Act::Softmin: {
      const double sign = a == Act::Softmax ? 1.0 : -1.0;
      double sum = 0.0;
      for (double zi : z) sum += std::exp(sign * zi);
      for (std::size_t i = 0; i < z.size(); ++i) out[i] = std::exp(sign * z[i]) / sum;
      return out;
    }
    case Act::LogSoftmax: {
      double sum = 0.0;
      for (double zi : z) sum += std::exp(zi);
      const double lse = std::log(sum);
      for (std::size_t i = 0; i < z.size(); ++i) out[i] = z[i] - lse;
      return out;
    }
  }
  return out;
}

/// y = W x for a rows x cols row-major W.
inline std::vector<double> matvec(const std::vector<double>& W, int rows, int cols,
                                  const std::vector<double>& x) {
  std::vector<double> y(static_cast<std::size_t>(rows), 0.0);
  for (int r = 0; r < rows; ++r) {
    double acc = 0.0;
    for (int c = 0; c < cols; ++c) acc += W[static_cast<std::size_t>(r * cols + c)] * x[static_cast<std::size_t>(c)];
    y[static_cast<std::size_t>(r)] = acc;
  }
  return y;
}

/// The chain  input function node (act_in, m units) -> W_in (N x m) -> population
/// -> W_out (K x N) -> output function node (act_out, K units).
struct Chain {
  int m = 1, K = 1;
  Act act_in = Act::Identity, act_out = Act::Identity;
  std::vector<double> W_in, W_out;
  QifPop pop;
  std::vector<double> in_in, in_out, out_in, out_out;  ///< last step's "in"/"out" of both nodes

  Chain(int m_, Act ain, std::vector<double> win, QifParams p, int K_, Act aout,
        std::vector<double> wout)
      : m(m_), K(K_), act_in(ain), act_out(aout), W_in(std::move(win)), W_out(std::move(wout)),
        pop(std::move(p)) {}

  /// One step with network input x (m values); returns the network output.
  std::vector<double> step(const std::vector<double>& x, double dt) {
    in_in = x;
    in_out = activate(act_in, x);
    const std::vector<double> I = matvec(W_in, pop.n(), m, in_out);
    const std::vector<double> y_pop = pop.step(I, dt);  // population output at step start
    out_in = matvec(W_out, K, pop.n(), y_pop);
    out_out = activate(act_out, out_in);
    return out_out;
  }
};

// ---------------------------------------------------------------------------------------
// The Observer's run/test recording, written from the spec.

struct VarReq {
  std::string name;  ///< key under which it is stored ("qif.v")
  bool mean = false;
};

struct Recording {
  std::vector<std::int64_t> steps;
  std::vector<std::vector<double>> out;               ///< per sample: window mean of y
  std::vector<double> loss;                           ///< per sample: window mean of loss
  std::vector<std::vector<std::vector<double>>> vars;  ///< [var][sample] -> values
  double mean_loss = 0.0;  ///< mean per-step loss over steps >= cutoff
  long total_steps = 0;
};

/// Run T steps of a model.
///   step(t)        advances one step and returns y(t) (the output at the step's start)
///   read(i)        returns variable i of `vars` now (call before step(t): start of step t)
///   target(t)      (optional) the target row of step t, for the loss
///   loss_kind      "mse" (mean over outputs of squared error) or "l1" (mean absolute error)
inline Recording run_observer(std::int64_t T, std::int64_t sampling, std::int64_t cutoff,
                              const std::vector<VarReq>& vars,
                              const std::function<std::vector<double>(std::int64_t)>& step,
                              const std::function<std::vector<double>(std::size_t)>& read,
                              const std::function<std::vector<double>(std::int64_t)>& target = {},
                              const std::string& loss_kind = "mse") {
  Recording rec;
  rec.vars.resize(vars.size());
  std::vector<double> win_sum;
  double win_loss = 0.0;
  std::int64_t win_n = 0;
  double loss_sum = 0.0;
  std::int64_t loss_n = 0;
  for (std::int64_t t = 0; t < T; ++t) {
    const bool sample = t >= cutoff && t % sampling == 0;
    std::vector<std::vector<double>> snap;
    if (sample) {
      for (std::size_t i = 0; i < vars.size(); ++i) snap.push_back(read(i));
    }
    const std::vector<double> y = step(t);
    if (t < cutoff) continue;
    if (win_sum.empty()) win_sum.assign(y.size(), 0.0);
    for (std::size_t j = 0; j < y.size(); ++j) win_sum[j] += y[j];
    double l = 0.0;
    if (target) {
      const std::vector<double> tg = target(t);
      for (std::size_t j = 0; j < y.size(); ++j) {
        const double d = y[j] - tg[j];
        l += loss_kind == "l1" ? std::fabs(d) : d * d;
      }
      l /= static_cast<double>(y.size());
      win_loss += l;
      loss_sum += l;
      ++loss_n;
    }
    ++win_n;
    if (sample) {
      rec.steps.push_back(t);
      std::vector<double> m(y.size());
      for (std::size_t j = 0; j < y.size(); ++j) m[j] = win_sum[j] / static_cast<double>(win_n);
      rec.out.push_back(m);
      rec.loss.push_back(win_loss / static_cast<double>(win_n));
      for (std::size_t i = 0; i < vars.size(); ++i) {
        if (vars[i].mean) {
          double acc = 0.0;
          for (double z : snap[i]) acc += z;
          rec.vars[i].push_back({acc / static_cast<double>(snap[i].size())});
        } else {
          rec.vars[i].push_back(snap[i]);
        }
      }
      std::fill(win_sum.begin(), win_sum.end(), 0.0);
      win_loss = 0.0;
      win_n = 0;
    }
  }
  rec.total_steps = static_cast<long>(T);
  rec.mean_loss = loss_n > 0 ? loss_sum / static_cast<double>(loss_n) : 0.0;
  return rec;
}

/// The sample steps of a run, by the rule alone.
inline std::vector<std::int64_t> sample_steps(std::int64_t T, std::int64_t sampling,
                                              std::int64_t cutoff) {
  std::vector<std::int64_t> out;
  for (std::int64_t t = 0; t < T; ++t)
    if (t >= cutoff && t % sampling == 0) out.push_back(t);
  return out;
}

}  // namespace ref
