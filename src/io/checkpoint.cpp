// src/io/checkpoint.cpp - save and restore everything a run needs to continue bit for bit.
//
// Format 2 (native little-endian):
//   magic "QIFCKPT\n", u32 version = 2,
//   sections, each: tag (u64 length + bytes), u64 body length, body:
//     "network"      dt, precision, the nodes (name, kind, size), the step count, the
//                    interrupted run (position, schedule, window sums), every population's
//                    state (v, s, x) and parameters (float64, which holds float32 exactly)
//     "fingerprint"  u64 count, then key, u64 hash, text per entry (checkpoint.hpp)
//     "details"      u64 count, then key, value per entry
//     "observer"     an Observer's settings and samples (Observer::write_state)
//     "end"          empty, always last
//   u64 XXH3-64 of every byte before it.
// A reader skips sections it does not know: later versions add theirs (the coupling
// choice, ensemble members, ranks) without breaking older readers.
// Format 1 (no sections, no checksum) is still read.
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <streambuf>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "io/binary_io.hpp"
#include "core/engine.hpp"
#include "core/graph.hpp"
#include "io/input_files.hpp"
#include "io/output_files.hpp"
#include "qifsim/checkpoint.hpp"
#include "qifsim/error.hpp"
#include "qifsim/network.hpp"
#include "core/text.hpp"

namespace qifsim {
namespace {

constexpr char kMagic[8] = {'Q', 'I', 'F', 'C', 'K', 'P', 'T', '\n'};
constexpr std::uint32_t kVersion = 2;
// A population's saved values: every state of its model, then every parameter (model/qif.hpp's
// declaration order; the format's order).
std::vector<detail::Var> state_vars() {
  std::vector<detail::Var> vars;
  for (int s = 0; detail::is_state(static_cast<detail::Var>(s)); ++s) vars.push_back(static_cast<detail::Var>(s));
  return vars;
}
std::vector<detail::Var> param_vars() {
  std::vector<detail::Var> vars;
  for (int p = 0; detail::is_parameter(detail::param_var(p)); ++p) vars.push_back(detail::param_var(p));
  return vars;
}
const std::vector<detail::Var> kStateVars = state_vars();
const std::vector<detail::Var> kParams = param_vars();
// The network's own fingerprint keys start with this (the rest belong to the caller).
constexpr const char kNetworkKey[] = "network: ";
constexpr std::size_t kNetworkKeyLength = sizeof(kNetworkKey) - 1;

// An output stream onto a stdio file (the checkpoint's temporary file).
class StdioBuf : public std::streambuf {
 public:
  explicit StdioBuf(std::FILE* f) : f_(f) {}

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    return std::fputc(c, f_) == EOF ? traits_type::eof() : c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    return static_cast<std::streamsize>(std::fwrite(s, 1, static_cast<std::size_t>(n), f_));
  }

 private:
  std::FILE* f_;
};

// Sections with their length in front: the length is written as 0 and filled in once the
// body is written (the stream goes straight to the stdio file, so positions agree).
class SectionWriter {
 public:
  SectionWriter(std::FILE* f, std::ostream& out) : f_(f), out_(out), w_(out) {}
  detail::BinaryWriter& begin(const std::string& tag) {
    w_.str(tag);
    at_ = ::ftello(f_);
    w_.pod<std::uint64_t>(0);
    return w_;
  }
  void end() {
    const off_t here = ::ftello(f_);
    if (at_ < 0 || here < 0) return;  // the stdio error is reported by write_file_atomically
    const std::uint64_t length = static_cast<std::uint64_t>(here - at_) - 8;
    ::fseeko(f_, at_, SEEK_SET);
    w_.pod(length);
    ::fseeko(f_, here, SEEK_SET);
  }
  detail::BinaryWriter& writer() { return w_; }
  std::ostream& stream() { return out_; }

 private:
  std::FILE* f_;
  std::ostream& out_;
  detail::BinaryWriter w_;
  off_t at_ = -1;
};

// XXH3-64 of the file's first `bytes` bytes, read through the descriptor.
std::uint64_t hash_of_file(int fd, std::uint64_t bytes, const std::string& path) {
  XXH3_state_t* state = XXH3_createState();
  if (!state) throw std::bad_alloc();
  XXH3_64bits_reset(state);
  std::vector<char> buf(std::size_t{1} << 20);
  std::uint64_t done = 0;
  while (done < bytes) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), bytes - done));
    const ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      XXH3_freeState(state);
      throw IoError("reading checkpoint '" + path + "' failed: " + detail::errno_text(err));
    }
    XXH3_64bits_update(state, buf.data(), static_cast<std::size_t>(n));
    done += static_cast<std::uint64_t>(n);
  }
  const std::uint64_t h = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return h;
}

void check_finite(const detail::BinaryReader& r, const std::vector<double>& values, const std::string& what) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) r.fail(what + "[" + std::to_string(i) + "] is not finite");
  }
}

// A copy of a population without its weights (the checks below need the parameters only,
// and a copy of J could be most of the machine's memory). Moving a vector cannot throw.
QifPopulation parameters_of(QifPopulation& pop) {
  Matrix weights = std::move(pop.weights);
  QifPopulation copy;
  try {
    copy = pop;
  } catch (...) {
    pop.weights = std::move(weights);
    throw;
  }
  pop.weights = std::move(weights);
  copy.weights = Matrix();
  return copy;
}

std::uint64_t hash_matrix(const Matrix& m) {
  std::uint64_t h = hash_bytes(&m.rows, sizeof(m.rows));
  h = hash_bytes(&m.cols, sizeof(m.cols), h);
  return hash_bytes(m.data.data(), m.data.size() * sizeof(double), h);
}

// What defines the network beyond the nodes a checkpoint names and the state it holds:
// the weights and the function nodes' activations.
std::vector<FingerprintEntry> network_fingerprint(const detail::Graph& g) {
  std::vector<FingerprintEntry> out;
  for (const auto& node : g.nodes) {
    if (node.kind == detail::NodeKind::Population) {
      out.push_back({std::string(kNetworkKey) + "weights of '" + node.name + "'", hash_matrix(node.pop.weights), ""});
      const std::string var = node.pop.output_var;
      out.push_back({std::string(kNetworkKey) + "output of '" + node.name + "'", hash_bytes(var.data(), var.size()), var});
    } else {
      const auto a = static_cast<int>(node.activation);
      out.push_back({std::string(kNetworkKey) + "activation of '" + node.name + "'", hash_bytes(&a, sizeof a), ""});
    }
  }
  for (const auto& e : g.edges) {
    out.push_back({std::string(kNetworkKey) + "edge '" + g.nodes[static_cast<std::size_t>(e.source)].name + "' -> '" +
                       g.nodes[static_cast<std::size_t>(e.target)].name + "'",
                   hash_matrix(e.weights), ""});
  }
  return out;
}

bool is_network_key(const FingerprintEntry& e) { return e.key.rfind(kNetworkKey, 0) == 0; }

// ---- reading ------------------------------------------------------------------------------

// What a checkpoint file holds, read and checked, before anything is applied.
struct Loaded {
  int format = 0;
  std::int64_t step = 0;
  std::unique_ptr<detail::RunCarry> carry;
  std::int64_t carry_steps = 0, carry_sampling = 0, carry_cutoff = 0;
  struct Values {
    int node;
    detail::Var var;
    std::vector<double> values;
  };
  std::vector<Values> state;
  CheckpointInfo info;
  bool has_network = false;
};

// Opens a checkpoint, checks its magic, version and checksum; leaves `in` after the version.
int open_checkpoint(const std::string& path, std::ifstream& in, detail::BinaryReader*& reader,
                    std::unique_ptr<detail::BinaryReader>& owner) {
  const detail::OutputFile file = detail::open_regular_file(path, "a qifsim checkpoint");  // no FIFO or device
  in.open(path, std::ios::binary);
  if (!in) throw IoError("cannot open checkpoint '" + path + "': " + detail::errno_text(errno));
  const std::string what = "checkpoint '" + path + "'";
  owner = std::make_unique<detail::BinaryReader>(in, what);
  reader = owner.get();
  detail::BinaryReader& r = *reader;
  char magic[sizeof(kMagic)];
  in.read(magic, sizeof(magic));
  if (!in || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) r.fail("not a qifsim checkpoint");
  r.skipped(sizeof(magic));
  const auto version = r.pod<std::uint32_t>();
  if (version == 1) return 1;
  if (version != kVersion) {
    r.fail("format " + std::to_string(version) + " is unknown to this qifsim (it reads formats 1 and 2)");
  }
  // The checksum covers everything before its 8 bytes at the end.
  const std::uint64_t size = r.bytes_left() + sizeof(magic) + 4;
  if (!r.size_known() || size < sizeof(magic) + 4 + 8) r.fail("truncated (no checksum)");
  std::uint64_t stored = 0;
  if (::pread(::fileno(file.get()), &stored, sizeof stored, static_cast<off_t>(size - 8)) != 8) {
    r.fail("truncated (no checksum)");
  }
  if (hash_of_file(::fileno(file.get()), size - 8, path) != stored) {
    r.fail("damaged or truncated: its checksum does not match its contents (the file changed after it was "
           "written); it is not used");
  }
  return 2;
}

class CheckpointReader {
 public:
  CheckpointReader(const std::string& path, detail::Graph* graph, Precision precision, double dt)
      : path_(path), what_("checkpoint '" + path + "'"), graph_(graph), precision_(precision), dt_(dt) {}

  // Reads the whole file; the network's part only with a graph, the observer's only with one.
  Loaded read(Observer* observer) {
    Loaded out;
    std::ifstream in;
    detail::BinaryReader* r = nullptr;
    std::unique_ptr<detail::BinaryReader> owner;
    out.format = open_checkpoint(path_, in, r, owner);
    out.info.format = out.format;
    if (out.format == 1) {
      if (graph_) read_network(*r, out);
      if (observer) {
        if (r->pod<std::uint8_t>() == 0) r->fail("holds no observer");
        read_observer(in, *r, *observer);
      }
      return out;
    }
    bool observer_found = false;
    for (;;) {
      const std::string tag = r->str();
      const auto length = r->pod<std::uint64_t>();
      if (r->size_known() && length > r->bytes_left()) r->fail("truncated section '" + tag + "'");
      const std::streamoff start = in.tellg();
      if (tag == "end") break;
      if (tag == "network" && graph_) {
        read_network(*r, out);
      } else if (tag == "fingerprint") {
        const auto count = r->pod<std::uint64_t>();
        if (count > length / 24) r->fail("corrupt fingerprint");
        for (std::uint64_t i = 0; i < count; ++i) {
          FingerprintEntry e;
          e.key = r->str();
          e.hash = r->pod<std::uint64_t>();
          e.text = r->str();
          out.info.fingerprint.push_back(std::move(e));
        }
      } else if (tag == "details") {
        const auto count = r->pod<std::uint64_t>();
        if (count > length / 16) r->fail("corrupt details");
        for (std::uint64_t i = 0; i < count; ++i) {
          std::string key = r->str();
          std::string value = r->str();
          out.info.details.emplace_back(std::move(key), std::move(value));
        }
      } else if (tag == "observer" && observer) {
        read_observer(in, *r, *observer);
        observer_found = true;
      } else {
        in.seekg(static_cast<std::streamoff>(length), std::ios::cur);  // unknown or not wanted
        r->skipped(length);
      }
      const std::streamoff end = in.tellg();
      if (!in || end - start != static_cast<std::streamoff>(length)) r->fail("corrupt section '" + tag + "'");
    }
    if (graph_ && !out.has_network) r->fail("holds no network state");
    if (observer && !observer_found) r->fail("holds no observer");
    return out;
  }

 private:
  void read_observer(std::ifstream& in, detail::BinaryReader& r, Observer& observer) {
    const std::streamoff start = in.tellg();
    Observer restored = observer;
    restored.read_state(in, what_);
    observer = std::move(restored);
    r.skipped(static_cast<std::uint64_t>(in.tellg() - start));
  }

  void read_network(detail::BinaryReader& r, Loaded& out) {
    out.has_network = true;
    const double dt = r.pod<double>();
    const auto bits = r.pod<std::int32_t>();
    const std::int32_t ours = precision_ == Precision::Float32 ? 32 : 64;
    if (dt != dt_ || bits != ours) {
      throw GraphError(what_ + " was saved with dt " + std::to_string(dt) + " in float" + std::to_string(bits) +
                       "; this network has dt " + std::to_string(dt_) + " in float" + std::to_string(ours));
    }
    const auto count = r.pod<std::uint64_t>();
    if (count != graph_->nodes.size()) {
      throw GraphError(what_ + " holds " + std::to_string(count) + " nodes; this network has " +
                       std::to_string(graph_->nodes.size()));
    }
    for (const auto& node : graph_->nodes) {
      const std::string name = r.str();
      const auto kind = r.pod<std::int32_t>();
      const auto size = r.pod<std::int64_t>();
      const std::int32_t our_kind = node.kind == detail::NodeKind::Population ? 0 : 1;
      if (name != node.name || kind != our_kind || size != node.size) {
        throw GraphError(what_ + ": saved node '" + name + "' (size " + std::to_string(size) +
                         ") does not match this network's node '" + node.name + "' (size " +
                         std::to_string(node.size) + ")");
      }
    }
    // Everything is checked before anything changes: a checkpoint is a file like any
    // other, and a damaged or hand-made one must be refused, not run.
    out.step = r.pod<std::int64_t>();
    if (out.step < 0) r.fail("corrupt step count " + std::to_string(out.step));
    if (r.pod<std::uint8_t>() != 0) read_carry(r, out);
    for (std::size_t i = 0; i < graph_->nodes.size(); ++i) {
      const auto& node = graph_->nodes[i];
      if (node.kind != detail::NodeKind::Population) continue;
      for (auto v : kStateVars) out.state.push_back({static_cast<int>(i), v, r.vec<double>()});
      for (auto v : kParams) out.state.push_back({static_cast<int>(i), v, r.vec<double>()});
    }
    for (const auto& s : out.state) {
      const auto& node = graph_->nodes[static_cast<std::size_t>(s.node)];
      if (static_cast<std::int64_t>(s.values.size()) != node.size) r.fail("corrupt state of node '" + node.name + "'");
      check_finite(r, s.values, "'" + node.name + "." + detail::var_name(s.var) + "'");
    }
    // The parameters obey the rules a config or set_var() obeys (tau > 0, v_reset <
    // v_threshold, ...): validate each population as it would be after loading.
    for (std::size_t i = 0; i < graph_->nodes.size(); ++i) {
      const auto& node = graph_->nodes[i];
      if (node.kind != detail::NodeKind::Population) continue;
      QifPopulation loaded = parameters_of(graph_->nodes[i].pop);
      for (const auto& s : out.state) {
        if (s.node == static_cast<int>(i) && detail::is_parameter(s.var)) detail::param_of(loaded, s.var) = Param(s.values);
      }
      try {
        detail::validate_population(node.name, loaded);
      } catch (const InvalidArgument& e) {
        r.fail(std::string("holds parameters that are not valid: ") + e.what());
      }
    }
  }

  void read_carry(detail::BinaryReader& r, Loaded& out) {
    auto carry = std::make_unique<detail::RunCarry>();
    out.carry_steps = r.pod<std::int64_t>();
    out.carry_sampling = r.pod<std::int64_t>();
    out.carry_cutoff = r.pod<std::int64_t>();
    carry->next_step = r.pod<std::int64_t>();
    carry->y_sum = r.vec<double>();
    carry->loss_window = r.pod<double>();
    carry->loss_total = r.pod<double>();
    carry->window = r.pod<std::int64_t>();
    carry->loss_steps = r.pod<std::int64_t>();
    const auto bad = [&](const std::string& why) { r.fail("corrupt interrupted run: " + why); };
    const std::int64_t steps = out.carry_steps, sampling = out.carry_sampling, cutoff = out.carry_cutoff;
    if (steps <= 0) bad("its input has " + std::to_string(steps) + " steps");
    if (sampling < 1) bad("sampling_steps = " + std::to_string(sampling));
    if (cutoff < 0 || cutoff >= steps) bad("cutoff = " + std::to_string(cutoff));
    const std::int64_t next = carry->next_step;
    if (next < 0 || next >= steps) bad("it stopped at step " + std::to_string(next) + " of " + std::to_string(steps));
    const std::int64_t out_width = graph_->nodes[static_cast<std::size_t>(graph_->output)].size;
    if (!carry->y_sum.empty() && static_cast<std::int64_t>(carry->y_sum.size()) != out_width) {
      bad("its output sums have " + std::to_string(carry->y_sum.size()) + " values; the output has " +
          std::to_string(out_width));
    }
    check_finite(r, carry->y_sum, "the output sums");
    // The window (steps summed since the last sample) follows from the position and the
    // schedule.
    const std::int64_t window = detail::SampleSchedule{sampling, cutoff}.window_at(next);
    if (carry->window != window) {
      bad("window of " + std::to_string(carry->window) + " steps; stopping at step " + std::to_string(next) +
          " with sampling_steps " + std::to_string(sampling) + " and cutoff " + std::to_string(cutoff) + " gives " +
          std::to_string(window));
    }
    const std::int64_t counted = std::max<std::int64_t>(0, next - cutoff);
    if (carry->loss_steps != 0 && carry->loss_steps != counted) bad(std::to_string(carry->loss_steps) + " loss steps");
    if (!std::isfinite(carry->loss_window) || !std::isfinite(carry->loss_total)) bad("the loss sums are not finite");
    out.carry = std::move(carry);
  }

  std::string path_;
  std::string what_;
  detail::Graph* graph_;
  Precision precision_;
  double dt_;
};

}  // namespace

std::uint64_t hash_bytes(const void* data, std::size_t bytes, std::uint64_t seed) {
  return XXH3_64bits_withSeed(data, bytes, seed);
}

std::string CheckpointInfo::detail(const std::string& key) const {
  for (const auto& d : details) {
    if (d.first == key) return d.second;
  }
  return "";
}

std::vector<std::string> CheckpointInfo::details_of(const std::string& key) const {
  std::vector<std::string> out;
  for (const auto& d : details) {
    if (d.first == key) out.push_back(d.second);
  }
  return out;
}

std::vector<std::string> fingerprint_changes(const std::vector<FingerprintEntry>& saved,
                                             const std::vector<FingerprintEntry>& now) {
  std::map<std::string, const FingerprintEntry*> before;
  for (const auto& e : saved) before[e.key] = &e;
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& e : now) {
    seen.insert(e.key);
    const auto it = before.find(e.key);
    if (it == before.end()) {
      out.push_back(e.key + ": added" + (e.text.empty() ? "" : " (" + e.text + ")"));
    } else if (it->second->hash != e.hash) {
      const std::string& a = it->second->text;
      out.push_back(e.key + ": " + (!a.empty() || !e.text.empty() ? (a.empty() ? "?" : a) + " -> " + (e.text.empty() ? "?" : e.text)
                                                                  : std::string("changed")));
    }
  }
  for (const auto& e : saved) {
    if (!seen.count(e.key)) out.push_back(e.key + ": removed" + (e.text.empty() ? "" : " (was " + e.text + ")"));
  }
  return out;
}

CheckpointInfo read_checkpoint_info(const std::string& path) {
  CheckpointReader reader(path, nullptr, Precision::Float64, 0.0);
  Loaded loaded = reader.read(nullptr);
  return std::move(loaded.info);
}

void Network::save_checkpoint(const std::string& path, const Observer* observer, const CheckpointInfo* info) const {
  require_compiled("save_checkpoint");
  std::vector<FingerprintEntry> fingerprint = network_fingerprint(*graph_);
  if (info) {
    for (const auto& e : info->fingerprint) {
      if (!is_network_key(e)) fingerprint.push_back(e);
    }
  }
  // Written to a temporary file beside `path` and renamed onto it when complete: an old
  // checkpoint stays whole until the new one is, and a link at `path` is not followed.
  detail::write_file_atomically(path, [&](std::FILE* file) {
    StdioBuf buf(file);
    std::ostream out(&buf);
    SectionWriter sections(file, out);
    detail::BinaryWriter& w = sections.writer();
    out.write(kMagic, sizeof(kMagic));
    w.pod(kVersion);
    sections.begin("network");
    w.pod(dt_);
    w.pod<std::int32_t>(precision_ == Precision::Float32 ? 32 : 64);
    w.pod<std::uint64_t>(graph_->nodes.size());
    for (const auto& node : graph_->nodes) {
      w.str(node.name);
      w.pod<std::int32_t>(node.kind == detail::NodeKind::Population ? 0 : 1);
      w.pod<std::int64_t>(node.size);
    }
    w.pod<std::int64_t>(step_);
    w.pod<std::uint8_t>(carry_ ? 1 : 0);
    if (carry_) {
      w.pod(carry_steps_);
      w.pod(carry_sampling_);
      w.pod(carry_cutoff_);
      w.pod(carry_->next_step);
      w.vec(carry_->y_sum);
      w.pod(carry_->loss_window);
      w.pod(carry_->loss_total);
      w.pod(carry_->window);
      w.pod(carry_->loss_steps);
    }
    for (std::size_t i = 0; i < graph_->nodes.size(); ++i) {
      const auto& node = graph_->nodes[i];
      if (node.kind != detail::NodeKind::Population) continue;
      for (auto v : kStateVars) w.vec(engine_->get_var(static_cast<int>(i), v));
      for (auto v : kParams) w.vec(engine_->get_var(static_cast<int>(i), v));
    }
    sections.end();
    sections.begin("fingerprint");
    w.pod<std::uint64_t>(fingerprint.size());
    for (const auto& e : fingerprint) {
      w.str(e.key);
      w.pod(e.hash);
      w.str(e.text);
    }
    sections.end();
    if (info) {
      sections.begin("details");
      w.pod<std::uint64_t>(info->details.size());
      for (const auto& d : info->details) {
        w.str(d.first);
        w.str(d.second);
      }
      sections.end();
    }
    if (observer) {
      sections.begin("observer");
      observer->write_state(out);
      sections.end();
    }
    sections.begin("end");
    sections.end();
    out.flush();
    if (!out || std::fflush(file) != 0) {
      throw IoError("writing checkpoint '" + path + "' failed: " + detail::errno_text(errno));
    }
    const off_t size = ::ftello(file);
    if (size < 0) throw IoError("writing checkpoint '" + path + "' failed: " + detail::errno_text(errno));
    const std::uint64_t sum = hash_of_file(::fileno(file), static_cast<std::uint64_t>(size), path);
    w.pod(sum);
  });
}

void Network::load_checkpoint(const std::string& path, Observer* observer) {
  CheckpointLoad how;
  how.observer = observer;
  load_checkpoint(path, how);
}

void Network::load_checkpoint(const std::string& path, const CheckpointLoad& how) {
  require_compiled("load_checkpoint");
  CheckpointReader reader(path, graph_.get(), precision_, dt_);
  Observer* observer = how.observer;
  // The observer is replaced only once the whole file has been read and checked.
  std::unique_ptr<Observer> staged;
  if (observer) staged = std::make_unique<Observer>(*observer);
  Loaded loaded = reader.read(staged.get());
  if (loaded.format >= 2 && !how.allow_changes) {
    std::vector<FingerprintEntry> saved;
    for (const auto& e : loaded.info.fingerprint) {
      if (is_network_key(e)) saved.push_back(e);
    }
    std::vector<std::string> changes = fingerprint_changes(saved, network_fingerprint(*graph_));
    if (!changes.empty()) {
      for (auto& c : changes) c = c.substr(kNetworkKeyLength);
      throw GraphError("checkpoint '" + path + "' was saved by a network with other weights or activations: " +
                       detail::join(changes, false) + " (its state would not continue that run)");
    }
  }
  // Apply.
  for (const auto& s : loaded.state) {
    if (detail::is_parameter(s.var)) {
      if (!how.parameters) continue;
      auto& pop = graph_->nodes[static_cast<std::size_t>(s.node)].pop;
      detail::param_of(pop, s.var) = Param(s.values);
    }
    engine_->set_var(s.node, s.var, s.values);
  }
  if (observer) *observer = std::move(*staged);
  step_ = loaded.step;
  show_step_start_ = false;
  carry_ = std::move(loaded.carry);
  carry_steps_ = loaded.carry_steps;
  carry_sampling_ = loaded.carry_sampling;
  carry_cutoff_ = loaded.carry_cutoff;
  if (how.info) *how.info = std::move(loaded.info);
}

}  // namespace qifsim
