#ifndef SIFT_CZSTD_SHIM_H
#define SIFT_CZSTD_SHIM_H
#include <zstd.h>
#endif
