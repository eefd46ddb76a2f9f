// tests/test_config.cpp - TOML configs: every error names key, file and shape; values,
// generators, inputs and overrides against independent computations.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "qifsim/config.hpp"
#include "qifsim/generators.hpp"
#include "qifsim/qifsim.hpp"

namespace {

// Every input row of a config's run, fetched as the run fetches them.
qifsim::Matrix all_rows(const qifsim::RunConfig& cfg) {
  const qifsim::InputSource in = cfg.input_source();
  qifsim::Matrix m(in.rows, in.cols);
  if (in.rows > 0) in.fetch(0, in.rows, m.data.data());
  return m;
}

using iotest::contains_all;
using iotest::ScratchDir;

constexpr double kPi = 3.14159265358979323846;

// A small valid config: one population of 3 neurons, 50 steps of constant input.
const std::string kBase = R"(dt = 1e-3
steps = 50
[[population]]
name = "qif"
n = 3
eta = -4.0
[input]
value = 12.0
[record]
vars = [["qif", "v", false]]
formats = []
)";

std::string replace(std::string text, const std::string& old, const std::string& now) {
  const auto p = text.find(old);
  if (p == std::string::npos) throw std::runtime_error("test setup: '" + old + "' not in the config");
  return text.replace(p, old.size(), now);
}

/// The ConfigError message of parsing `text` (named cfg.toml, data in dir); fails the test
/// when the config is accepted or another exception comes.
std::string error_of(const std::string& text, const std::string& dir = ".",
                     const std::vector<std::string>& overrides = {}) {
  try {
    qifsim::parse_config(text, dir, "cfg.toml", overrides);
  } catch (const qifsim::ConfigError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected a ConfigError, got another exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "the config was accepted:\n" << text;
  return {};
}

// ---- errors: unknown key, wrong type, wrong shape, missing or corrupt file ---------------

TEST(ConfigErrors, UnknownKeyNamesFileLineKeyAndSuggestion) {
  const std::string msg = error_of(replace(kBase, "eta = -4.0", "eta = -4.0\netaa = 1"));
  EXPECT_TRUE(contains_all(msg, {"cfg.toml:7", "population[0]", "unknown key 'etaa'", "did you mean 'eta'"}));
}

TEST(ConfigErrors, UnknownTopLevelAndNestedKeys) {
  EXPECT_TRUE(contains_all(error_of("stepz = 5\n" + kBase), {"cfg.toml:1", "unknown key 'stepz'", "did you mean 'steps'"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "value = 12.0", "value = 12.0\nvalu = 1")),
                           {"cfg.toml:9", "input", "unknown key 'valu'"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "formats = []", "formats = []\nsampling = 2")),
                           {"record", "unknown key 'sampling'"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "eta = -4.0", "eta = { kind = \"lorentzian\", center = 1, widht = 2 }")),
                           {"population[0].eta", "unknown key 'widht'", "did you mean 'width'"}));
}

// A generator takes only its own kind's keys: a key of another kind was silently ignored
// (p on uniform weights built a dense matrix). Value distributions are checked as eta's are.
TEST(ConfigErrors, AGeneratorTakesOnlyItsOwnKindsKeys) {
  const std::string w = "eta = -4.0\nweights = ";
  struct Case {
    std::string table;
    std::vector<std::string> expected;
  } cases[] = {
      {"{ kind = \"uniform\", low = 0.0, high = 1.0, p = 0.01 }", {"population[0].weights", "unknown key 'p'", "kind, low, high, seed"}},
      {"{ kind = \"fixed_indegree\", k = 1, p = 0.5 }", {"unknown key 'p'", "kind, k, value, values, seed, autapses"}},
      {"{ kind = \"identity\", k = 2 }", {"unknown key 'k'", "kind, value"}},
      {"{ kind = \"all_to_all\", value = 1.0, seed = 3 }", {"unknown key 'seed'"}},
      {"{ kind = \"sparse\", p = 0.5, autapses = true }", {"unknown key 'autapses'"}},
      {"{ kind = \"normal\", mean = 0.0, std = 1.0, low = 2.0 }", {"unknown key 'low'"}},
      {"{ kind = \"sparse\", p = 0.5, sed = 3 }", {"unknown key 'sed'", "did you mean 'seed'"}},
      {"{ kind = \"sparse\", p = 0.5, values = { kind = \"normal\", mean = 1.0, std = -1.0 } }",
       {"population[0].weights.values.std", "must be >= 0"}},
      {"{ kind = \"sparse\", p = 0.5, values = { kind = \"uniform\", low = 2.0, high = 1.0 } }",
       {"population[0].weights.values", "high must be >= low"}},
      {"{ kind = \"sparse\", p = 0.5, values = { kind = \"constant\", value = 1.0, std = 2.0 } }",
       {"unknown key 'std'"}},
  };
  for (const auto& c : cases) {
    const std::string msg = error_of(replace(kBase, "eta = -4.0", w + c.table));
    EXPECT_TRUE(contains_all(msg, c.expected)) << c.table << " -> " << msg;
  }
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "eta = -4.0", "eta = { kind = \"lorentzian\", center = 1, width = 2, seed = 4 }")),
                           {"population[0].eta", "unknown key 'seed'", "kind, center, width"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "eta = -4.0", "eta = { kind = \"constant\", value = 1, low = 0 }")),
                           {"unknown key 'low'"}));
}

// Messages in the config's own words: what a value may be, a hint for RectiPy's qif_sfa, no
// C++ call names or C++ spellings.
TEST(ConfigErrors, MessagesSpeakTheConfigsWords) {
  const std::string word = error_of(replace(kBase, "eta = -4.0", "eta = \"minus five\""));
  EXPECT_TRUE(contains_all(word, {"population[0].eta", "'minus five' is not a number", ".npy file name"})) << word;
  EXPECT_EQ(word.find("not found"), std::string::npos) << word;
  const std::string w = error_of(replace(kBase, "eta = -4.0", "weights = \"J\""));
  EXPECT_TRUE(contains_all(w, {"population[0].weights", "'J' names no .npy or .npz file"})) << w;
  const std::string sfa = error_of(replace(kBase, "eta = -4.0", "model = \"qif_sfa\""));
  EXPECT_TRUE(contains_all(sfa, {"'qif_sfa' is unknown", "model = \"qif\" with adaptation = true"})) << sfa;
  const std::string node = error_of(replace(kBase, "vars = [[\"qif\", \"v\", false]]", "vars = [[\"qfi\", \"v\", false]]"));
  EXPECT_TRUE(contains_all(node, {"record.vars[0]", "unknown node 'qfi'", "'qif'"})) << node;
  EXPECT_EQ(node.find("node_size"), std::string::npos) << node;
  if (qifsim::cuda_device_count() == 0) {
    const std::string gpu = error_of("backend = \"gpu\"\n" + kBase);
    EXPECT_TRUE(contains_all(gpu, {"cfg.toml:1", "backend", "'gpu' was asked for, but no GPU is usable",
                                   "use backend = \"cpu\""})) << gpu;
    EXPECT_EQ(gpu.find("Backend::"), std::string::npos) << gpu;
  }
}

// What run() refuses before its first step, the config refuses at its line: `check` said such
// configs were valid and `run` failed after making its folder.
TEST(ConfigErrors, WhatTheRunWouldRefuseIsAConfigError) {
  const std::string coupled = replace(kBase, "eta = -4.0", "eta = -4.0\nweights = [[0, 1, 2], [1, 0, 1], [2, 1, 0]]");
  EXPECT_TRUE(contains_all(error_of("coupling = \"procedural\"\n" + coupled),
                           {"cfg.toml:1", "coupling", "population 'qif'", "not all equal"}));
  // The same weights, all equal: procedural applies.
  EXPECT_NO_THROW(qifsim::parse_config("coupling = \"procedural\"\n" +
                                           replace(kBase, "eta = -4.0", "weights = [[1, 1, 1], [1, 1, 1], [1, 1, 1]]"),
                                       ".", "cfg.toml"));
  EXPECT_TRUE(contains_all(error_of("coupling = \"events\"\n" + replace(coupled, "eta = -4.0", "tau_s = [1, 2, 1]")),
                           {"cfg.toml:1", "coupling", "one tau_s per neuron"}));
  EXPECT_NO_THROW(qifsim::parse_config("coupling = \"events\"\n" + coupled, ".", "cfg.toml"));
  const std::string rate = replace(coupled, "eta = -4.0", "model = \"tanh\"");
  EXPECT_TRUE(contains_all(error_of("coupling = \"events\"\n" + rate), {"cfg.toml:1", "model 'tanh'", "no synapse"}));
  EXPECT_TRUE(contains_all(error_of("event_coupling = 5\n" + rate), {"cfg.toml:1", "event_coupling", "model 'tanh'"}));
  // A parameter of another model (ik's kappa) is not recorded either, as QIF's are not.
  const std::string ik = replace(replace(kBase, "eta = -4.0", "model = \"ik\""), "[\"qif\", \"v\", false]",
                                 "[\"qif\", \"kappa\", true]");
  const std::string kappa = error_of(ik);
  EXPECT_TRUE(contains_all(kappa, {"cfg.toml:10", "record.vars[0]", "'kappa' is a parameter", "v, u, s"})) << kappa;
  EXPECT_NO_THROW(qifsim::parse_config(replace(ik, "kappa", "u"), ".", "cfg.toml"));
}

// Sizes too large for the memory are config errors at their key, refused before anything is
// allocated (they were std::bad_alloc, or errors naming neither the file nor the key).
TEST(ConfigErrors, SizesTooLargeForTheMemoryNameTheKey) {
  // 4e9 neurons: at least 4e9 x 13 values x 4 bytes = 208 GB of state.
  const std::string n = error_of(replace(kBase, "n = 3", "n = 4000000000"));
  EXPECT_TRUE(contains_all(n, {"cfg.toml:5", "population[0].n", "N = 4000000000 neurons need at least", "available"})) << n;
  // 2e6 neurons of 1999999 partners each: 4e12 entries, about 48 TB as CSR.
  const std::string k = error_of(replace(replace(kBase, "n = 3", "n = 2000000"), "eta = -4.0",
                                         "weights = { kind = \"fixed_indegree\", k = 1999999 }"));
  EXPECT_TRUE(contains_all(k, {"cfg.toml:6", "population[0].weights", "fixed_indegree (k = 1999999)", "would take"})) << k;
  const std::string p = error_of(replace(replace(kBase, "n = 3", "n = 2000000"), "eta = -4.0",
                                         "weights = { kind = \"sparse\", p = 1.0 }"));
  EXPECT_TRUE(contains_all(p, {"cfg.toml:6", "population[0].weights", "sparse_matrix (p = 1", "would take"})) << p;
}

TEST(ConfigErrors, NonAsciiOutsideStringsAndCommentsNamesLineAndColumn) {
  // U+FC00 where a separator belongs: refused by position (toml++ 3.3.0 has undefined
  // behaviour there, found by fuzzing).
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "eta = -4.0", "eta =\xEF\xB0\x80-4.0")),
                           {"cfg.toml:6:6", "non-ASCII character outside a string or comment"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "n = 3", "n\xC3\xA9 = 3")), {"cfg.toml:5:2", "non-ASCII"}));
  // In comments and in strings of every kind they are fine (names, descriptions); the
  // config then fails or passes on its own merits.
  const std::string comment = "# Montbri\xC3\xB3, Paz\xC3\xB3, Roxin \xEF\xB0\x80\n" + kBase;
  EXPECT_NO_THROW(qifsim::parse_config(comment, ".", "cfg.toml"));
  for (const std::string quoted : {"\"r\xC3\xA9seau ''' \\\" \xEF\xB0\x80\"", "'r\xC3\xA9seau \"'",
                                   "\"\"\"\nr\xC3\xA9seau \" \xEF\xB0\x80\n\"\"\"", "'''\n\xC3\xA9t\xC3\xA9 '\n'''"}) {
    const std::string msg = error_of("note = " + quoted + "\n" + kBase);
    EXPECT_TRUE(contains_all(msg, {"unknown key 'note'"})) << quoted << " -> " << msg;
  }
}

struct TypeCase {
  const char* name;
  const char* old_text;
  const char* new_text;
  std::vector<std::string> expected;
};

class ConfigWrongType : public ::testing::TestWithParam<TypeCase> {};

TEST_P(ConfigWrongType, NamesKeyAndExpectedType) {
  const TypeCase& c = GetParam();
  EXPECT_TRUE(contains_all(error_of(replace(kBase, c.old_text, c.new_text)), c.expected));
}

INSTANTIATE_TEST_SUITE_P(
    Keys, ConfigWrongType,
    ::testing::Values(
        TypeCase{"Dt", "dt = 1e-3", "dt = \"fast\"", {"cfg.toml:1", "dt: expected a number, got a string"}},
        TypeCase{"Steps", "steps = 50", "steps = 50.0", {"cfg.toml:2", "steps: expected an integer, got a floating-point number"}},
        TypeCase{"N", "n = 3", "n = \"3\"", {"cfg.toml:5", "population[0].n: expected an integer, got a string"}},
        TypeCase{"Eta", "eta = -4.0", "eta = true", {"population[0].eta", "expected a number, an array", "got a boolean"}},
        TypeCase{"Adaptation", "eta = -4.0", "adaptation = 1", {"population[0].adaptation", "expected true or false, got an integer"}},
        TypeCase{"Weights", "eta = -4.0", "weights = 2.0", {"population[0].weights", "expected a .npy or .npz file name", "(3, 3)"}},
        TypeCase{"InputValue", "value = 12.0", "value = \"12\"", {"input.value", "expected a number or an array of 3 numbers", "got a string"}},
        TypeCase{"RecordVars", "vars = [[\"qif\", \"v\", false]]", "vars = \"qif.v\"", {"record.vars", "expected an array of [node, var]"}},
        TypeCase{"RecordVarMean", "vars = [[\"qif\", \"v\", false]]", "vars = [[\"qif\", \"v\", 1]]", {"record.vars[0]", "[node, var, mean]"}},
        TypeCase{"Formats", "formats = []", "formats = [\"npy\", 3]", {"record.formats[1]", "expected a string, got an integer"}},
        TypeCase{"Precision", "dt = 1e-3", "dt = 1e-3\nprecision = 64", {"precision: expected a string"}},
        TypeCase{"PopulationList", "[[population]]", "population = 3\n[[function]]", {"population", "expected a list of tables [[population]]"}}),
    [](const ::testing::TestParamInfo<TypeCase>& param_info) { return std::string(param_info.param.name); });

TEST(ConfigErrors, SingleTableInsteadOfList) {
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "[[population]]", "[population]")),
                           {"cfg.toml:3", "write [[population]] (a list of tables), not [population]"}));
}

TEST(ConfigErrors, WrongInlineShapes) {
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "eta = -4.0", "eta = [1.0, 2.0]")),
                           {"cfg.toml:6", "population[0].eta", "array of 2 values", "expected 1 value or N = 3"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "eta = -4.0", "weights = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]")),
                           {"population[0].weights", "inline matrix has 2 rows of 3", "expected (3, 3)"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "value = 12.0", "value = [1.0, 2.0]")),
                           {"input.value", "array of 2 values", "expected 1 number or 3"}));
}

TEST(ConfigErrors, WrongNpyShapesNameFileAndExpectedShape) {
  ScratchDir dir;
  iotest::write_f8(dir / "J32.npy", "(3, 2)", {1, 2, 3, 4, 5, 6});
  iotest::write_f8(dir / "eta22.npy", "(2, 2)", {1, 2, 3, 4});
  iotest::write_f8(dir / "inp.npy", "(50, 2)", std::vector<double>(100, 1.0));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "eta = -4.0", "weights = \"J32.npy\""), dir.str()),
                           {"cfg.toml:6", "population[0].weights", "file 'J32.npy' has shape (3, 2)", "expected (3, 3)"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "eta = -4.0", "eta = \"eta22.npy\""), dir.str()),
                           {"population[0].eta", "file 'eta22.npy' has shape (2, 2)", "expected (3,)"}));
  EXPECT_TRUE(contains_all(error_of(replace(replace(kBase, "value = 12.0", "file = \"inp.npy\""), "steps = 50\n", ""), dir.str()),
                           {"input.file", "file 'inp.npy' has shape (50, 2)", "expected (T, 3)"}));
  // The input file's rows must agree with steps when both are given.
  iotest::write_f8(dir / "inp3.npy", "(40, 3)", std::vector<double>(120, 1.0));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "value = 12.0", "file = \"inp3.npy\""), dir.str()),
                           {"input.file", "40 rows", "steps = 50"}));
}

TEST(ConfigErrors, EdgeWeightsShapeIsTargetBySource) {
  const std::string text = replace(kBase, "[input]", R"([[function]]
name = "ro"
size = 2
[[edge]]
source = "qif"
target = "ro"
weights = [[1.0, 0.0], [0.0, 1.0]]
[input])");
  EXPECT_TRUE(contains_all(error_of(text), {"edge[0].weights", "inline matrix has 2 rows of 2", "expected (2, 3)",
                                            "target size x source size"}));
  EXPECT_TRUE(contains_all(error_of(replace(text, "target = \"ro\"", "target = \"r0\"")),
                           {"edge[0].target", "unknown node 'r0'", "'qif', 'ro'"}));
}

TEST(ConfigErrors, MissingFileNamesFileAndWhereItLooked) {
  ScratchDir dir;
  const std::string msg = error_of(replace(kBase, "eta = -4.0", "weights = \"data/J.npy\""), dir.str());
  EXPECT_TRUE(contains_all(msg, {"cfg.toml:6", "population[0].weights", "file 'data/J.npy' not found", dir / "data/J.npy"}));
  try {
    qifsim::load_config(dir / "absent.toml");
    ADD_FAILURE() << "a missing config was accepted";
  } catch (const qifsim::ConfigError& e) {
    EXPECT_TRUE(contains_all(e.what(), {dir / "absent.toml", "no such file"}));
  }
}

TEST(ConfigErrors, CorruptNpyFilesNameFileAndDefect) {
  ScratchDir dir;
  const std::vector<double> nine(9, 1.0);
  const std::string good = iotest::npy_bytes(iotest::npy_dict("<f8", "(3, 3)"), nine.data(), 72);
  iotest::write_text(dir / "truncated.npy", good.substr(0, good.size() - 5));
  iotest::write_text(dir / "header.npy", good.substr(0, 40));
  iotest::write_text(dir / "magic.npy", "PK\x03\x04 a zip file, not numpy");
  iotest::write_text(dir / "fortran.npy", iotest::npy_bytes(iotest::npy_dict("<f8", "(3, 3)", true), nine.data(), 72));
  iotest::write_text(dir / "bigendian.npy", iotest::npy_bytes(iotest::npy_dict(">f8", "(3, 3)"), nine.data(), 72));
  iotest::write_text(dir / "bytes.npy", iotest::npy_bytes(iotest::npy_dict("|u1", "(3, 3)"), nine.data(), 9));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"truncated.npy", "truncated"},     {"header.npy", "ends inside the header"},
      {"magic.npy", "NPY magic"},         {"fortran.npy", "Fortran order"},
      {"bigendian.npy", "big-endian"},    {"bytes.npy", "'|u1' is not supported"}};
  for (const auto& [file, defect] : cases) {
    const std::string msg = error_of(replace(kBase, "eta = -4.0", "weights = \"" + file + "\""), dir.str());
    EXPECT_TRUE(contains_all(msg, {"population[0].weights", file, "not a valid .npy file", defect})) << file;
  }
}

TEST(ConfigErrors, SyntaxErrorNamesLineAndColumn) {
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "n = 3", "n = ")), {"cfg.toml:5:", "TOML syntax error"}));
}

TEST(ConfigErrors, RecordSettings) {
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "formats = []", "cutoff = 50")),
                           {"record.cutoff", "must be in [0, steps = 50)"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "formats = []", "formats = [\"xlsx\"]")),
                           {"record.formats[0]", "unknown format 'xlsx'", "'npy', 'hdf5', 'csv'"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "[\"qif\", \"v\", false]", "[\"qif\", \"eta\", false]")),
                           {"record.vars[0]", "'eta' is a parameter"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "[\"qif\", \"v\", false]", "[\"pop\", \"v\", false]")),
                           {"record.vars[0]", "unknown node 'pop'"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "formats = []", "sampling_steps = 0")),
                           {"record.sampling_steps", "must be >= 1"}));
}

TEST(ConfigErrors, StepsAndGraph) {
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "steps = 50\n", "")), {"steps", "missing"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "steps = 50", "steps = 50\nduration = 1.0")),
                           {"duration", "gives 1000 steps but steps = 50"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "[input]", "[[population]]\nname = \"b\"\nn = 2\n[input]")),
                           {"'qif'", "'b'", "[[edge]]"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "eta = -4.0", "alpha = 2.0")),
                           {"population[0].alpha", "adaptation = true"}));
}

// ---- values -------------------------------------------------------------------------------

TEST(ConfigValues, LorentzianEtaIsTheQuantileFormula) {
  const qifsim::RunConfig cfg = qifsim::parse_config(
      replace(replace(kBase, "n = 3", "n = 7"), "eta = -4.0", "eta = { kind = \"lorentzian\", center = -5.0, width = 2.0 }"));
  const std::vector<double> eta = cfg.network.get_var("qif", "eta");
  ASSERT_EQ(eta.size(), 7u);
  for (int i = 1; i <= 7; ++i) {
    // x_i = center + width * tan(pi/2 * (2i - N - 1)/(N + 1)) = -5 + 2 tan(pi (i - 4) / 8)
    const double expected = -5.0 + 2.0 * std::tan(kPi * (i - 4) / 8.0);
    EXPECT_NEAR(eta[static_cast<std::size_t>(i - 1)], expected, 1e-12) << "i = " << i;
  }
  EXPECT_NEAR(eta[3], -5.0, 1e-15);  // the median is the center
}

TEST(ConfigValues, ParametersFromNumbersArraysAndNpyFiles) {
  ScratchDir dir;
  const std::int32_t tau_i4[3] = {1, 2, 3};
  iotest::write_text(dir / "tau.npy", iotest::npy_bytes(iotest::npy_dict("<i4", "(3,)"), tau_i4, sizeof tau_i4));
  const float vth[3] = {50.5f, 60.25f, 70.0f};
  iotest::write_text(dir / "vth.npy", iotest::npy_bytes(iotest::npy_dict("<f4", "(3, 1)"), vth, sizeof vth, 2));
  const qifsim::RunConfig cfg = qifsim::parse_config(
      replace(kBase, "eta = -4.0", "eta = [-1.0, -2.0, -3.5]\ntau = \"tau.npy\"\nv_threshold = \"vth.npy\"\nk = 0.5"), dir.str());
  EXPECT_EQ(cfg.network.get_var("qif", "eta"), (std::vector<double>{-1.0, -2.0, -3.5}));
  EXPECT_EQ(cfg.network.get_var("qif", "tau"), (std::vector<double>{1.0, 2.0, 3.0}));
  EXPECT_EQ(cfg.network.get_var("qif", "v_threshold"), (std::vector<double>{50.5, 60.25, 70.0}));
  EXPECT_EQ(cfg.network.get_var("qif", "k"), (std::vector<double>{0.5, 0.5, 0.5}));
  EXPECT_EQ(cfg.network.get_var("qif", "v_reset"), (std::vector<double>{-100.0, -100.0, -100.0}));  // default
}

TEST(ConfigValues, WeightsFromNpyRunLikeTheSameMatrixGivenDirectly) {
  ScratchDir dir;
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0.0, 8.0);
  qifsim::Matrix J(4, 4);
  for (double& w : J.data) w = u(rng);
  iotest::write_f8(dir / "J.npy", "(4, 4)", J.data);
  qifsim::RunConfig cfg = qifsim::parse_config(
      replace(replace(kBase, "n = 3", "n = 4"), "eta = -4.0", "weights = \"J.npy\"\neta = -4.0"), dir.str());
  cfg.options.progress = qifsim::Progress::Off;
  qifsim::ConfigRun r = qifsim::run_config(cfg);

  // The reference: the same network through the C++ API.
  qifsim::Network net(1e-3, qifsim::Backend::Cpu);
  qifsim::QifPopulation pop;
  pop.n = 4;
  pop.weights = J;
  pop.eta = -4.0;
  net.add_population("qif", pop);
  net.compile();
  qifsim::RunOptions opt;
  opt.record_vars = {{"qif", "v", false}};
  opt.progress = qifsim::Progress::Off;
  const qifsim::Observer ref = net.run(qifsim::Matrix(50, 4, 12.0), opt);
  EXPECT_EQ(r.observer.to_matrix("qif.v").data, ref.to_matrix("qif.v").data);
  EXPECT_EQ(r.observer.to_matrix("out").data, ref.to_matrix("out").data);
  EXPECT_TRUE(r.files.empty());  // formats = []
}

TEST(ConfigValues, InputComponentsAreSummed) {
  ScratchDir dir;
  std::vector<double> file(20 * 2);
  for (std::size_t i = 0; i < file.size(); ++i) file[i] = 0.25 * static_cast<double>(i);
  iotest::write_f8(dir / "inp.npy", "(20, 2)", file);
  const std::string text = R"(dt = 0.1
[[population]]
name = "qif"
n = 2
[input]
file = "inp.npy"
value = [1.0, -1.0]
[[input.step]]
start = 0.5
stop = 1.0
value = 3.0
[[input.pulse]]
start = 0.2
period = 0.6
width = 0.2
value = [10.0, 0.0]
[[input.sine]]
amplitude = 2.0
frequency = 0.5
phase = 0.25
stop = 1.5
[record]
formats = []
)";
  const qifsim::RunConfig cfg = qifsim::parse_config(text, dir.str());
  const qifsim::Matrix inputs = all_rows(cfg);
  ASSERT_EQ(inputs.rows, 20);
  ASSERT_EQ(inputs.cols, 2);
  for (int t = 0; t < 20; ++t) {
    for (int j = 0; j < 2; ++j) {
      double x = 0.25 * (2 * t + j) + (j == 0 ? 1.0 : -1.0);
      if (t >= 5 && t < 10) x += 3.0;                                   // step: [0.5, 1.0)
      if (j == 0 && t >= 2 && (t - 2) % 6 < 2) x += 10.0;               // pulses at 0.2, 0.8, 1.4, ...
      if (t < 15) x += 2.0 * std::sin(2.0 * kPi * 0.5 * (0.1 * t) + 0.25);  // sine until 1.5
      EXPECT_NEAR(inputs(t, j), x, 1e-12) << "t = " << t << ", j = " << j;
    }
  }
}

TEST(ConfigValues, AnInputFileIsReadInPiecesNotHeld) {
  // 400000 x 3 float32 values (4.8 MB as f4, 9.6 MB as doubles): read in several pieces as the
  // rows are fetched; every row is the file's plus the [input] value. A file cut short after
  // the check ends the fetch with an IoError naming it.
  ScratchDir dir;
  const std::int64_t rows = 400000;
  std::vector<float> values(static_cast<std::size_t>(rows) * 3);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.001f * static_cast<float>(i % 9973) - 2.0f;
  iotest::write_text(dir / "big.npy", iotest::npy_bytes(iotest::npy_dict("<f4", "(400000, 3)"), values.data(),
                                                         values.size() * sizeof(float)));
  const std::string text = "dt = 1e-3\n[[population]]\nname = \"qif\"\nn = 3\n[input]\nfile = \"big.npy\"\nvalue = 0.5\n"
                           "[record]\nformats = []\n";
  const qifsim::RunConfig cfg = qifsim::parse_config(text, dir.str());
  EXPECT_TRUE(cfg.inputs.data.empty());  // nothing held
  EXPECT_TRUE(contains_all(cfg.summary(), {"'big.npy' (400000 x 3, <f4), read in pieces"}));
  const qifsim::InputSource in = cfg.input_source();
  ASSERT_EQ(in.rows, rows);
  std::vector<double> piece(3 * 1000);
  for (std::int64_t first = 0; first < rows; first += 1000) {  // as a run fetches them: in order, piece by piece
    in.fetch(first, 1000, piece.data());
    for (std::size_t k = 0; k < piece.size(); ++k) {
      const double want = static_cast<double>(values[static_cast<std::size_t>(first) * 3 + k]) + 0.5;
      ASSERT_EQ(piece[k], want) << "row " << first + static_cast<std::int64_t>(k / 3);
    }
  }
  std::filesystem::resize_file(dir / "big.npy", 1000);
  try {
    in.fetch(399000, 1000, piece.data());
    ADD_FAILURE() << "a truncated file was read";
  } catch (const qifsim::IoError& e) {
    EXPECT_TRUE(contains_all(e.what(), {"big.npy", "ended early"}));
  }
}

TEST(ConfigValues, EventCouplingReachesTheRunOptions) {
  EXPECT_EQ(qifsim::parse_config(kBase).options.event_coupling, 0);
  const qifsim::RunConfig cfg = qifsim::parse_config(replace(kBase, "steps = 50", "steps = 50\nevent_coupling = 250"));
  EXPECT_EQ(cfg.options.event_coupling, 250);
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "steps = 50", "steps = 50\nevent_coupling = -3")),
                           {"event_coupling", "must be >= 0", "-3"}));
}

TEST(ConfigValues, DurationGivesSteps) {
  const qifsim::RunConfig cfg = qifsim::parse_config(replace(kBase, "steps = 50", "duration = 0.25"));
  EXPECT_EQ(cfg.steps(), 250);
}

// ---- generators -----------------------------------------------------------------------------

TEST(Generators, UniformFollowsTheDocumentedDrawAndSeed) {
  const std::vector<double> a = qifsim::uniform_values(10000, 2.0, 6.0, 5);
  // The documented draw: u = (w >> 11) * 2^-53 from std::mt19937_64(seed).
  std::mt19937_64 engine(5);
  for (int i = 0; i < 3; ++i) {
    const double u = static_cast<double>(engine() >> 11) / 9007199254740992.0;
    EXPECT_DOUBLE_EQ(a[static_cast<std::size_t>(i)], 2.0 + 4.0 * u);
  }
  double mean = 0.0;
  for (double x : a) {
    EXPECT_GE(x, 2.0);
    EXPECT_LT(x, 6.0);
    mean += x / 10000.0;
  }
  EXPECT_NEAR(mean, 4.0, 0.05);  // standard error 4/sqrt(12 * 10000) = 0.012
  EXPECT_EQ(a, qifsim::uniform_values(10000, 2.0, 6.0, 5));
  EXPECT_NE(a, qifsim::uniform_values(10000, 2.0, 6.0, 6));
}

TEST(Generators, NormalHasItsMeanAndSpread) {
  const std::vector<double> a = qifsim::normal_values(20000, 1.5, 0.5, 9);
  double m = 0.0, m2 = 0.0;
  for (double x : a) m += x / 20000.0;
  for (double x : a) m2 += (x - m) * (x - m) / 20000.0;
  EXPECT_NEAR(m, 1.5, 0.015);
  EXPECT_NEAR(std::sqrt(m2), 0.5, 0.015);
}

TEST(Generators, ConfigWeightGenerators) {
  auto weights_of = [](const std::string& spec, int n) {
    // Recover J from the coupling: with s = e_j and v = 0, one step gives v_i = dt * J_ij
    // (eta = 0, I = 0, tau = k = 1).
    qifsim::RunConfig cfg = qifsim::parse_config(
        "dt = 1.0\nsteps = 1\n[[population]]\nname = \"p\"\nn = " + std::to_string(n) +
        "\neta = 0.0\nv0 = 0.0\nweights = " + spec + "\n[record]\nformats = []\n");
    qifsim::Matrix J(n, n);
    for (int j = 0; j < n; ++j) {
      cfg.network.reset();
      std::vector<double> s(static_cast<std::size_t>(n), 0.0);
      s[static_cast<std::size_t>(j)] = 1.0;
      cfg.network.set_var("p", "s", s);
      cfg.network.forward(std::vector<double>(static_cast<std::size_t>(n), 0.0));
      const std::vector<double> v = cfg.network.next_state("p", "v");
      for (int i = 0; i < n; ++i) J(i, j) = v[static_cast<std::size_t>(i)];
    }
    return J;
  };
  const qifsim::Matrix all = weights_of("{ kind = \"all_to_all\", value = 0.25 }", 3);
  for (double w : all.data) EXPECT_DOUBLE_EQ(w, 0.25);
  const qifsim::Matrix id = weights_of("{ kind = \"identity\", value = 2.0 }", 3);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) EXPECT_DOUBLE_EQ(id(i, j), i == j ? 2.0 : 0.0);
  }
  const qifsim::Matrix uni = weights_of("{ kind = \"uniform\", low = 1.0, high = 2.0, seed = 4 }", 4);
  EXPECT_EQ(uni.data, qifsim::uniform_values(16, 1.0, 2.0, 4));
  const qifsim::Matrix sparse = weights_of("{ kind = \"sparse\", p = 0.3, seed = 2, values = { kind = \"uniform\", low = 5.0, high = 6.0 } }", 40);
  int nonzero = 0;
  for (double w : sparse.data) {
    if (w != 0.0) {
      ++nonzero;
      EXPECT_GE(w, 5.0);
      EXPECT_LT(w, 6.0);
    }
  }
  EXPECT_NEAR(nonzero / 1600.0, 0.3, 0.04);  // standard error 0.011
}

// ---- overrides and files ------------------------------------------------------------------

TEST(ConfigOverrides, ReplaceAndAddKeys) {
  const qifsim::RunConfig cfg = qifsim::parse_config(
      kBase, ".", "cfg.toml",
      {"record.sampling_steps=5", "backend=cpu", "population.0.eta=-4.5", "record.out_dir=some/dir", "precision=float32"});
  EXPECT_EQ(cfg.options.sampling_steps, 5);
  EXPECT_EQ(cfg.network.backend(), qifsim::Backend::Cpu);
  EXPECT_EQ(cfg.network.precision(), qifsim::Precision::Float32);
  EXPECT_EQ(cfg.network.get_var("qif", "eta"), (std::vector<double>{-4.5, -4.5, -4.5}));
  EXPECT_EQ(cfg.out_dir, "some/dir");
  EXPECT_TRUE(contains_all(error_of(kBase, ".", {"population.3.eta=1"}), {"population.3", "out of range"}));
  EXPECT_TRUE(contains_all(error_of(kBase, ".", {"record.sampling_steps"}), {"expected KEY=VALUE"}));
  EXPECT_TRUE(contains_all(error_of(kBase, ".", {"population.0.eta=true"}), {"(--set)", "population[0].eta", "got a boolean"}));
}

TEST(ConfigFiles, LoadResolvesDataAgainstTheConfigFolderAndStreams) {
  ScratchDir dir;
  std::filesystem::create_directories(dir / "cfg");
  iotest::write_f8(dir / "cfg/J.npy", "(3, 3)", std::vector<double>(9, 0.5));
  iotest::write_text(dir / "cfg/run.toml",
                     replace(replace(kBase, "eta = -4.0", "weights = \"J.npy\""), "formats = []",
                             "formats = [\"npy\"]\nout_dir = \"" + (dir / "out") + "\""));
  qifsim::RunConfig cfg = qifsim::load_config(dir / "cfg/run.toml");
  cfg.options.progress = qifsim::Progress::Off;
  EXPECT_EQ(cfg.path, dir / "cfg/run.toml");
  qifsim::ConfigRun r = qifsim::run_config(cfg, /*keep_in_memory=*/false);
  EXPECT_EQ(r.observer.samples(), 50);
  EXPECT_THROW(r.observer.to_matrix("out"), qifsim::InvalidArgument);  // on disk only
  const iotest::NpyFile v = iotest::read_npy_file(dir / "out/qif.v.npy");
  EXPECT_EQ(v.shape, (std::vector<std::int64_t>{50, 3}));
  EXPECT_TRUE(std::filesystem::exists(dir / "out/qifsim_run.toml"));
  EXPECT_NE(cfg.summary().find("50 steps"), std::string::npos);
}

}  // namespace

// ---- times and counts far out of range (they used to overflow) -----------------------------

namespace {

// Inputs of a 1-unit population over 10 steps of dt = 1 with one [[input.X]] component.
std::vector<double> input_of(const std::string& component) {
  const qifsim::RunConfig cfg = qifsim::parse_config(
      "dt = 1.0\nsteps = 10\n[[population]]\nname = \"p\"\nn = 1\n[input]\nvalue = 0.0\n" + component +
      "\n[record]\nformats = []\n");
  return all_rows(cfg).data;
}

}  // namespace

TEST(ConfigRanges, TimesBeyondTheRunAreClampedNotOverflowed) {
  // A step from t = 1e30 never starts; one to t = 1e30 lasts to the end.
  EXPECT_EQ(input_of("[[input.step]]\nstart = 1e30\nvalue = 5.0"), std::vector<double>(10, 0.0));
  std::vector<double> from3(10, 0.0);
  for (int t = 3; t < 10; ++t) from3[static_cast<std::size_t>(t)] = 5.0;
  EXPECT_EQ(input_of("[[input.step]]\nstart = 3.0\nstop = 1e30\nvalue = 5.0"), from3);
  // A pulse wider than the run: one pulse, on from its start to the end.
  EXPECT_EQ(input_of("[[input.pulse]]\nstart = 3.0\nperiod = 4.0\nwidth = 1e30\nvalue = 5.0"), from3);
  // A period beyond the run: one pulse of the given width.
  std::vector<double> one(10, 0.0);
  one[2] = one[3] = 5.0;
  EXPECT_EQ(input_of("[[input.pulse]]\nstart = 2.0\nperiod = 1e30\nwidth = 2.0\nvalue = 5.0"), one);
}

TEST(ConfigRanges, NegativeWidthsAndHugeDurationsAreRefused) {
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "value = 12.0",
                                            "value = 12.0\n[[input.pulse]]\nperiod = 0.01\nwidth = -0.005\nvalue = 1.0")),
                           {"input.pulse[0].width", "must be > 0"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "steps = 50", "duration = 1e30")),
                           {"duration", "1e+30", "2^53"}));
}

TEST(ConfigRanges, OverridesOutOfRangeSayWhat) {
  EXPECT_TRUE(contains_all(error_of(kBase, ".", {"steps=99999999999999999999"}),
                           {"99999999999999999999", "not a number TOML can hold"}));
  EXPECT_TRUE(contains_all(error_of(kBase, ".", {"population.99999999999999999999.eta=1"}),
                           {"index 99999999999999999999 is out of range", "1 entries"}));
}

TEST(ConfigFiles, OnlyRegularFilesAreRead) {
  ScratchDir dir;
  std::filesystem::create_directory(dir / "J.npy");
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "eta = -4.0", "eta = -4.0\nweights = \"J.npy\""), dir.str()),
                           {"'", "J.npy' is a folder, not a .npy file"}));
  ASSERT_EQ(::mkfifo((dir / "eta.npy").c_str(), 0600), 0);
  // A FIFO with no writer: refused at once instead of waiting forever for one.
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "eta = -4.0", "eta = \"eta.npy\""), dir.str()),
                           {"eta.npy' is a FIFO"}));
  try {
    qifsim::load_config("/dev/zero");
    ADD_FAILURE() << "/dev/zero was read as a config";
  } catch (const qifsim::ConfigError& e) {
    EXPECT_TRUE(contains_all(e.what(), {"/dev/zero' is a character device, not a config file"})) << e.what();
  }
  std::filesystem::create_directory(dir / "cfg.toml");
  EXPECT_THROW(qifsim::load_config(dir / "cfg.toml"), qifsim::ConfigError);
}

TEST(ConfigErrors, AGraphWithoutEdgesSaysEdgesAreMissing) {
  const std::string msg = error_of(replace(kBase, "[input]", "[[population]]\nname = \"b\"\nn = 2\n[input]"));
  EXPECT_TRUE(contains_all(msg, {"no [[edge]] tables"})) << msg;
}

TEST(ConfigValues, SubnormalsKey) {
  EXPECT_EQ(qifsim::parse_config("subnormals = \"flush\"\n" + kBase).options.subnormals, qifsim::Subnormals::Flush);
  EXPECT_EQ(qifsim::parse_config(kBase).options.subnormals, qifsim::Subnormals::Auto);
  EXPECT_TRUE(contains_all(error_of("subnormals = \"never\"\n" + kBase), {"subnormals", "'never' is unknown"}));
}

TEST(ConfigValues, ReproducibleKey) {
  EXPECT_TRUE(qifsim::parse_config("reproducible = true\n" + kBase).options.reproducible);
  EXPECT_FALSE(qifsim::parse_config(kBase).options.reproducible);
  EXPECT_TRUE(contains_all(error_of("reproducible = 1\n" + kBase), {"reproducible", "true or false"}));
}

// ---- RectiPy's other neuron models ----------------------------------------------------------

TEST(ConfigModels, AModelPopulationTakesItsOwnParametersAndDefaults) {
  const std::string text = replace(replace(kBase, "eta = -4.0", "model = \"lif\"\ntau = 20.0\nv0 = [1.0, 2.0, 3.0]"),
                                   "value = 12.0", "value = 150.0");
  const qifsim::RunConfig cfg = qifsim::parse_config(text, ".", "cfg.toml");
  EXPECT_EQ(cfg.network.get_var("qif", "tau"), (std::vector<double>{20.0, 20.0, 20.0}));
  EXPECT_EQ(cfg.network.get_var("qif", "tau_s"), (std::vector<double>{0.5, 0.5, 0.5}));  // RectiPy's lif default
  EXPECT_EQ(cfg.network.get_var("qif", "v"), (std::vector<double>{1.0, 2.0, 3.0}));
}

TEST(ConfigModels, UnknownModelAndForeignKeysAreNamed) {
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "eta = -4.0", "model = \"hh\"")),
                           {"population[0].model", "'hh' is unknown", "lif", "sigmoid"}));
  // eta is a QIF key, but tau_x is not a key of the leaky integrator
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "eta = -4.0", "model = \"tanh\"\ntau_x = 2.0")),
                           {"population[0]", "unknown key 'tau_x'"}));
  EXPECT_TRUE(contains_all(error_of(replace(kBase, "eta = -4.0", "model = \"tanh\"\noutput_var = \"s\"")),
                           {"output_var 's'", "tanh"}));
}

TEST(ConfigInputs, ALongDirectInputIsComputedNotHeld) {
  // 2e6 steps x 4000 neurons would be 64 GB as an array; the rows are computed when fetched.
  const qifsim::RunConfig cfg = qifsim::parse_config(
      "dt = 1e-3\nsteps = 2000000\n[[population]]\nname = \"p\"\nn = 4000\n[input]\nvalue = 2.0\n"
      "[[input.step]]\nstart = 1000.0\nvalue = 0.5\n[record]\nformats = []\n");
  EXPECT_EQ(cfg.steps(), 2000000);
  EXPECT_EQ(cfg.inputs.rows, 0);
  const qifsim::InputSource in = cfg.input_source();
  ASSERT_EQ(in.cols, 4000);
  std::vector<double> rows(2 * 4000);
  in.fetch(999999, 2, rows.data());  // the step starts at t = 1000.0: step 1000000
  EXPECT_EQ(rows[0], 2.0);
  EXPECT_EQ(rows[3999], 2.0);
  EXPECT_EQ(rows[4000], 2.5);
  EXPECT_EQ(rows[7999], 2.5);
}

// ---- noise and Poisson input --------------------------------------------------------------

TEST(ConfigStochastic, NoiseAndPoissonTablesRunAsTheApiDoes) {
  const std::string text = R"(dt = 1e-3
steps = 300
backend = "cpu"
[[population]]
name = "qif"
n = 20
eta = 1.5
sigma = [0.5, 1.0, 1.5, 2.0, 0.5, 1.0, 1.5, 2.0, 0.5, 1.0, 1.5, 2.0, 0.5, 1.0, 1.5, 2.0, 0.5, 1.0, 1.5, 2.0]
noise_seed = 4
[[population.poisson]]
rate = 30.0
weight = 0.25
sources = 8
seed = 2
[[population.poisson]]
rate = 10.0
weight = -0.5
shared = true
[record]
output = false
formats = []
)";
  qifsim::RunConfig cfg = qifsim::parse_config(text, ".", "cfg.toml");
  EXPECT_NE(cfg.node_descriptions[0].find("noise (seed 4), Poisson input 30 x 8 (weight 0.25), Poisson input 10 x 1 shared"),
            std::string::npos)
      << cfg.node_descriptions[0];
  qifsim::Observer obs(1e-3, false);
  qifsim::run_config_into(cfg, obs);
  const std::vector<double> from_config = cfg.network.get_var("qif", "v");

  qifsim::Network net(1e-3, qifsim::Backend::Cpu);
  qifsim::QifPopulation q;
  q.n = 20;
  q.eta = 1.5;
  net.add_population("qif", q);
  std::vector<double> sigma;
  for (int i = 0; i < 20; ++i) sigma.push_back(0.5 * (1 + i % 4));
  net.add_noise("qif", {sigma, 4});
  net.add_poisson_input("qif", {30.0, 0.25, 8, false, 2});
  net.add_poisson_input("qif", {10.0, -0.5, 1, true, 0});
  net.compile();
  qifsim::RunOptions opt;
  opt.progress = qifsim::Progress::Off;
  opt.record_output = false;
  qifsim::Observer direct(1e-3, false);
  net.run(qifsim::Matrix(300, 20, 0.0), opt, direct);
  EXPECT_EQ(from_config, net.get_var("qif", "v"));
  // Without the noise and the Poisson input v is another (they did something).
  qifsim::Network plain(1e-3, qifsim::Backend::Cpu);
  plain.add_population("qif", q);
  plain.compile();
  plain.run(qifsim::Matrix(300, 20, 0.0), opt, direct);
  EXPECT_NE(from_config, plain.get_var("qif", "v"));
}

TEST(ConfigStochastic, BadValuesNameTheKey) {
  const std::string base = "dt = 1e-3\nsteps = 10\n[[population]]\nname = \"qif\"\nn = 3\n";
  EXPECT_NE(error_of(base + "sigma = -0.5\n").find("population[0].sigma"), std::string::npos);
  EXPECT_NE(error_of(base + "sigma = -0.5\n").find("must be finite and >= 0"), std::string::npos);
  EXPECT_NE(error_of(base + "noise_seed = -1\n").find("population[0].noise_seed: must be >= 0"), std::string::npos);
  EXPECT_NE(error_of(base + "[[population.poisson]]\nweight = 1.0\n").find("population[0].poisson[0].rate"), std::string::npos);
  EXPECT_NE(error_of(base + "[[population.poisson]]\nrate = 1.0\nweight = 1.0\nsources = 0\n").find("sources = 0 must be >= 1"),
            std::string::npos);
  EXPECT_NE(error_of(base + "[[population.poisson]]\nrate = 1.0\nweight = 1.0\nsede = 3\n").find("unknown key 'sede'"),
            std::string::npos);
  EXPECT_NE(error_of(base + "poisson = 3\n").find("population[0].poisson"), std::string::npos);
}

// A run with noise and Poisson input stopped at a step and resumed from its folder alone: its
// files (v of every neuron, the spike events) equal those of an uninterrupted run bit for bit.
TEST(ConfigStochastic, AStoppedNoisyRunResumedFromItsFolderEqualsAnUninterruptedOne) {
  ScratchDir dir;
  const std::string text = R"(dt = 1e-3
steps = 1200
backend = "cpu"
[[population]]
name = "qif"
n = 50
eta = 1.0
weights = { kind = "fixed_indegree", k = 10, values = 0.3, seed = 2 }
sigma = 2.0
noise_seed = 5
[[population.poisson]]
rate = 40.0
weight = 0.5
sources = 5
seed = 6
[record]
output = false
vars = [["qif", "v", false]]
spikes = ["qif"]
sampling_steps = 7
formats = ["npy"]
)";
  qifsim::RunConfig whole = qifsim::parse_config(text, dir.str(), "cfg.toml", {"record.out_dir=\"" + dir / "whole" + "\""});
  whole.options.progress = qifsim::Progress::Off;
  qifsim::run_config(whole, false);
  qifsim::RunConfig part = qifsim::parse_config(text, dir.str(), "cfg.toml", {"record.out_dir=\"" + dir / "part" + "\""});
  part.options.progress = qifsim::Progress::Off;
  part.options.stop_at_step = 555;
  ASSERT_TRUE(qifsim::run_config(part, false).interrupted());
  qifsim::RunConfig rest = qifsim::resume_config(dir / "part");
  rest.options.progress = qifsim::Progress::Off;
  EXPECT_EQ(qifsim::run_config(rest, false).first_step, 555);
  const std::string spikes = iotest::read_text(dir / "whole/qif.spikes.npy");
  EXPECT_GT(spikes.size(), 128u + 16u * 50u);  // the inputs made the neurons fire
  for (const char* name : {"qif.v.npy", "qif.spikes.npy", "steps.npy"}) {  // compared whole, not printed
    EXPECT_TRUE(iotest::read_text(dir / (std::string("part/") + name)) == iotest::read_text(dir / (std::string("whole/") + name)))
        << name << " differs from the uninterrupted run's";
  }
}
