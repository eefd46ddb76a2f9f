// host/config/config_stochastic.cpp - a [[population]]'s noise (sigma, noise_seed) and Poisson
// input ([[population.poisson]] tables: rate, weight, sources, shared, seed).
#include "qifsim/error.hpp"

#ifdef QIFSIM_HAVE_TOML
#include "config/config_values.hpp"
#include "config/toml_reader.hpp"
#include "core/text.hpp"

namespace qifsim::config_detail {

std::string read_stochastic_input(const TableReader& r, const std::string& name, std::int64_t n, Network& net,
                                  std::vector<FingerprintEntry>& fp) {
  const std::string at = r.path() + ".";
  std::string description;
  if (r.get("sigma") || r.get("noise_seed")) {
    NoiseInput noise;
    noise.sigma = read_param(r, "sigma", n, Param(0.0));
    const std::int64_t seed = r.integer("noise_seed", 0);
    if (seed < 0) fail(r.ctx(), r.get("noise_seed"), r.key("noise_seed"), "must be >= 0, got " + std::to_string(seed));
    noise.seed = static_cast<std::uint64_t>(seed);
    fingerprint_values(fp, at + "sigma", noise.sigma.values);
    fingerprint_text(fp, at + "noise_seed", std::to_string(seed));
    const bool on = noise.sigma.values.size() > 1 || noise.sigma.values[0] != 0.0;
    try {
      net.add_noise(name, std::move(noise));
    } catch (const Error& e) {
      fail(r.ctx(), r.get("sigma"), r.key("sigma"), e.what());
    }
    if (on) description += ", noise (seed " + std::to_string(seed) + ")";
  }
  const toml::node* list = r.get("poisson");
  if (list == nullptr) return description;
  std::vector<const toml::table*> tables;
  if (list->is_table()) {
    tables.push_back(list->as_table());
  } else if (list->is_array()) {
    const toml::array& a = *list->as_array();
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_table()) {
        fail(r.ctx(), &a[i], r.key("poisson") + "[" + std::to_string(i) + "]",
             "expected a table {rate, weight, sources, shared, seed}");
      }
      tables.push_back(a[i].as_table());
    }
  } else {
    r.wrong("poisson", *list, "[[population.poisson]] tables {rate, weight, sources, shared, seed}");
  }
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const TableReader p(r.ctx(), *tables[i], r.key("poisson") + "[" + std::to_string(i) + "]",
                        {"rate", "weight", "sources", "shared", "seed"});
    PoissonInput in;
    in.rate = p.required_number("rate", "input spikes per source per unit of model time");
    in.weight = p.required_number("weight", "the jump of v per input spike");
    in.sources = p.integer("sources", 1);
    in.shared = p.boolean("shared").value_or(false);
    in.seed = p.seed();
    const std::string key = p.path() + ".";
    fingerprint_values(fp, key + "rate", {in.rate});
    fingerprint_values(fp, key + "weight", {in.weight});
    fingerprint_values(fp, key + "sources", {static_cast<double>(in.sources)});
    fingerprint_text(fp, key + "shared", in.shared ? "true" : "false");
    fingerprint_text(fp, key + "seed", std::to_string(in.seed));
    description += ", Poisson input " + detail::short_number(in.rate) + " x " + std::to_string(in.sources) +
                   (in.shared ? " shared" : "") + " (weight " + detail::short_number(in.weight) + ")";
    try {
      net.add_poisson_input(name, in);
    } catch (const Error& e) {
      fail(r.ctx(), tables[i], p.path(), e.what());
    }
  }
  return description;
}

}  // namespace qifsim::config_detail

#endif  // QIFSIM_HAVE_TOML
