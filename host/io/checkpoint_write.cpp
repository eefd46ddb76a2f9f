// host/io/checkpoint_write.cpp - writing a checkpoint in format 2 (checkpoint_format.hpp): Network::save_checkpoint.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ostream>
#include <streambuf>

#include "io/binary_io.hpp"
#include "core/engine.hpp"
#include "core/graph.hpp"
#include "io/checkpoint_format.hpp"
#include "io/output_files.hpp"
#include "qifsim/checkpoint.hpp"
#include "qifsim/error.hpp"
#include "qifsim/network.hpp"
#include "core/text.hpp"

namespace qifsim {

using namespace checkpoint_detail;

namespace {

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
    if (n <= 0) return 0;  // (an empty vector's data() may be null: fwrite must not see it)
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

// u64 count, then per event-coupled population: i64 node, its J s (float64), its last spikes.
void write_event_state(detail::BinaryWriter& w, const std::vector<detail::EventState>& states) {
  w.pod<std::uint64_t>(states.size());
  for (const detail::EventState& e : states) {
    w.pod<std::int64_t>(e.node);
    w.vec(e.s_in);
    w.vec(e.spiked);
  }
}

}  // namespace

void Network::save_checkpoint(const std::string& path, const Observer* observer, const CheckpointInfo* info) const {
  require_compiled("save_checkpoint");
  if (communicator_.distributed()) {
    throw InvalidArgument("save_checkpoint: a network over " + std::to_string(communicator_.size()) +
                          " ranks has no checkpoints in this version");
  }
  for (const auto& node : graph_->nodes) {
    if (const auto* m = detail::other_model_of(node)) {
      throw InvalidArgument("save_checkpoint: population '" + node.name + "' uses model '" + m->decl->name +
                            "'; checkpoints hold QIF populations and function nodes only");
    }
  }
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
    if (has_edge_state(*graph_)) {  // delay buffers and filters, as Engine::edge_state gives them
      sections.begin("edges");
      std::uint64_t count = 0;
      for (const auto& e : graph_->edges) count += e.memory.stateful() ? 1 : 0;
      w.pod(count);
      for (std::size_t i = 0; i < graph_->edges.size(); ++i) {
        if (!graph_->edges[i].memory.stateful()) continue;
        w.pod<std::int64_t>(static_cast<std::int64_t>(i));
        w.vec(engine_->edge_state(static_cast<int>(i)));
      }
      sections.end();
    }
    if (carry_ && !sweep_engine_) {  // event coupling's J s and last spikes (none where stale or unused)
      const std::vector<detail::EventState> events = engine_->event_state();
      if (!events.empty()) {
        sections.begin("events");
        write_event_state(w, events);
        sections.end();
      }
    }
    if (sweep_engine_) {  // an interrupted sweep: every member's state, window sums and stop
      sections.begin("members");
      const detail::Engine& ensemble = *sweep_engine_;
      const std::int64_t count = ensemble.member_count();
      const std::vector<detail::MemberCarry> carries = ensemble.member_carries();
      w.pod<std::uint64_t>(static_cast<std::uint64_t>(count));
      w.str(sweep_signature_);
      for (std::int64_t b = 0; b < count; ++b) {
        const detail::MemberCarry& c = carries[static_cast<std::size_t>(b)];
        w.pod<std::int64_t>(c.stopped_at);
        w.str(c.reason);
        w.vec(c.y_sum);
        if (c.stopped_at >= 0) continue;  // stopped: its state (not finite) is not needed again
        const detail::Engine& m = ensemble.member(b);
        for (std::size_t i = 0; i < graph_->nodes.size(); ++i) {
          if (graph_->nodes[i].kind != detail::NodeKind::Population) continue;
          for (auto v : kStateVars) w.vec(m.get_var(static_cast<int>(i), v));
          for (auto v : kParams) w.vec(compact(m.get_var(static_cast<int>(i), v)));
        }
        for (std::size_t i = 0; i < graph_->edges.size(); ++i) {
          if (graph_->edges[i].memory.stateful()) w.vec(m.edge_state(static_cast<int>(i)));
        }
        write_event_state(w, m.event_state());
      }
      sections.end();
    }
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

}  // namespace qifsim
