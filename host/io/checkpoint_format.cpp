// host/io/checkpoint_format.cpp - what the checkpoint writer and reader share: saved variables, checksum, fingerprint.
#include "io/checkpoint_format.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/edge_state.hpp"
#include "core/graph.hpp"
#include "qifsim/checkpoint.hpp"
#include "qifsim/error.hpp"
#include "core/text.hpp"

namespace qifsim {
namespace {

std::uint64_t hash_matrix(const Matrix& m) {
  std::uint64_t h = hash_bytes(&m.rows, sizeof(m.rows));
  h = hash_bytes(&m.cols, sizeof(m.cols), h);
  return hash_bytes(m.data.data(), m.data.size() * sizeof(double), h);
}

// Dense weights and none hash as format 2 always did; sparse and all-to-all ones with a tag.
std::uint64_t hash_weights(const Weights& w) {
  switch (w.kind()) {
    case Weights::Kind::None: return hash_matrix(Matrix());
    case Weights::Kind::Dense: return hash_matrix(w.dense());
    case Weights::Kind::Sparse: {
      const SparseMatrix& m = w.sparse();
      std::uint64_t h = hash_bytes("sparse", 6);
      h = hash_bytes(&m.rows, sizeof(m.rows), h);
      h = hash_bytes(&m.cols, sizeof(m.cols), h);
      h = hash_bytes(m.indptr.data(), m.indptr.size() * sizeof(std::int64_t), h);
      h = hash_bytes(m.indices.data(), m.indices.size() * sizeof(std::int32_t), h);
      return hash_bytes(m.values.data(), m.values.size() * sizeof(double), h);
    }
    case Weights::Kind::AllToAll: {
      const std::int64_t rows = w.rows(), cols = w.cols();
      const double v = w.value();
      std::uint64_t h = hash_bytes("all_to_all", 10);
      h = hash_bytes(&rows, sizeof rows, h);
      h = hash_bytes(&cols, sizeof cols, h);
      return hash_bytes(&v, sizeof v, h);
    }
  }
  return 0;
}

}  // namespace

namespace checkpoint_detail {


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

// What defines the network beyond the nodes a checkpoint names and the state it holds:
// the weights and the function nodes' activations.
std::vector<FingerprintEntry> network_fingerprint(const detail::Graph& g) {
  std::vector<FingerprintEntry> out;
  for (const auto& node : g.nodes) {
    if (node.kind == detail::NodeKind::Population) {
      out.push_back({std::string(kNetworkKey) + "weights of '" + node.name + "'", hash_weights(node.pop.weights), ""});
      const std::string var = node.pop.output_var;
      out.push_back({std::string(kNetworkKey) + "output of '" + node.name + "'", hash_bytes(var.data(), var.size()), var});
      if (detail::has_stochastic_input(node)) {  // sigma, the seeds and the Poisson inputs: what the numbers depend on
        std::vector<double> d = node.noise.sigma.values;
        d.push_back(static_cast<double>(node.noise.seed));
        for (const PoissonInput& p : node.poisson) {
          d.insert(d.end(), {p.rate, p.weight, static_cast<double>(p.sources), p.shared ? 1.0 : 0.0, static_cast<double>(p.seed)});
        }
        out.push_back({std::string(kNetworkKey) + "noise and Poisson input of '" + node.name + "'",
                       hash_bytes(d.data(), d.size() * sizeof(double)), ""});
      }
    } else {
      const auto a = static_cast<int>(node.activation);
      out.push_back({std::string(kNetworkKey) + "activation of '" + node.name + "'", hash_bytes(&a, sizeof a), ""});
    }
  }
  for (const auto& e : g.edges) {
    out.push_back({std::string(kNetworkKey) + "edge '" + g.nodes[static_cast<std::size_t>(e.source)].name + "' -> '" +
                       g.nodes[static_cast<std::size_t>(e.target)].name + "'",
                   hash_weights(e.weights), ""});
    if (e.memory.stateful()) {  // a key of its own: checkpoints of other edges keep theirs
      std::uint64_t h = hash_bytes(e.memory.delays.data(), e.memory.delays.size() * sizeof(std::int64_t));
      h = hash_bytes(e.memory.filter.data.data(), e.memory.filter.data.size() * sizeof(double), h);
      const std::uint8_t write = e.memory.rectipy_buffer_write ? 1 : 0;
      h = hash_bytes(&write, 1, h);
      out.push_back({std::string(kNetworkKey) + "delays and filter of edge '" +
                         g.nodes[static_cast<std::size_t>(e.source)].name + "' -> '" +
                         g.nodes[static_cast<std::size_t>(e.target)].name + "'",
                     h, ""});
    }
  }
  return out;
}

bool has_edge_state(const detail::Graph& g) {
  for (const auto& e : g.edges) {
    if (e.memory.stateful()) return true;
  }
  return false;
}

std::int64_t edge_state_size(const detail::Edge& e) {
  return e.weights.cols() * std::max<std::int64_t>(detail::edge_buffer_columns(e.memory), 1);
}

bool is_network_key(const FingerprintEntry& e) { return e.key.rfind(kNetworkKey, 0) == 0; }

}  // namespace checkpoint_detail

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

std::vector<double> checkpoint_detail::compact(std::vector<double> values) {
  const auto bits = [](double x) {
    std::uint64_t b = 0;
    std::memcpy(&b, &x, sizeof b);
    return b;
  };
  const auto same = [&](double x) { return bits(x) == bits(values[0]); };  // -0 is not 0
  if (!values.empty() && std::all_of(values.begin(), values.end(), same)) values.resize(1);
  return values;
}

}  // namespace qifsim
