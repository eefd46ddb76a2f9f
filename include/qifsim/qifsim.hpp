// qifsim/qifsim.hpp - everything a user of the C++ API needs.
#pragma once

#include "qifsim/config.hpp"
#include "qifsim/checkpoint.hpp"
#include "qifsim/device.hpp"
#include "qifsim/error.hpp"
#include "qifsim/generators.hpp"
#include "qifsim/log.hpp"
#include "qifsim/matrix.hpp"
#include "qifsim/network.hpp"
#include "qifsim/npy.hpp"
#include "qifsim/observer.hpp"
#include "qifsim/population.hpp"
#include "qifsim/recording.hpp"
#include "qifsim/types.hpp"
#include "qifsim/version.hpp"
