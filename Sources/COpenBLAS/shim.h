#ifndef SIFT_COPENBLAS_SHIM_H
#define SIFT_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
