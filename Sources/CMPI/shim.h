#ifndef SIFT_CMPI_SHIM_H
#define SIFT_CMPI_SHIM_H
// Swift cannot import OpenMPI's handle macros (they expand to addresses of global structs),
// so these inline functions hand them over as ordinary values.
#include <mpi.h>

static inline MPI_Comm sift_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype sift_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype sift_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype sift_mpi_int32(void) { return MPI_INT32_T; }
static inline MPI_Datatype sift_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype sift_mpi_uint64(void) { return MPI_UINT64_T; }
static inline MPI_Datatype sift_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op sift_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op sift_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op sift_mpi_min(void) { return MPI_MIN; }
static inline MPI_Request sift_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *sift_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Errhandler sift_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline void *sift_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int sift_mpi_success(void) { return MPI_SUCCESS; }
static inline int sift_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
#endif
