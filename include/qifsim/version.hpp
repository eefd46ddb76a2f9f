// qifsim/version.hpp - library version.
#pragma once

#define QIFSIM_VERSION_MAJOR 0
#define QIFSIM_VERSION_MINOR 1
#define QIFSIM_VERSION_PATCH 0
#define QIFSIM_VERSION_STRING "0.1.0"
