#ifndef SIFT_CMPI_SHIM_H
#define SIFT_CMPI_SHIM_H
// Swift cannot import OpenMPI's handle macros (they expand to addresses of global structs),
// so these inline functions hand them over as ordinary values.
#include <mpi.h>
#include <stdint.h>
#include <string.h>

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
static inline MPI_Datatype sift_mpi_uint16(void) { return MPI_UINT16_T; }

// The current value of an integer MCA parameter of this process's OpenMPI (after MPI_Init), read
// through the MPI tool interface: 0 and the value in *value when found, -1 when not.
static inline int sift_mpi_int_parameter(const char *name, int *value) {
    int provided = 0, n = 0, found = -1;
    if (MPI_T_init_thread(MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS) return -1;
    if (MPI_T_cvar_get_num(&n) == MPI_SUCCESS) {
        for (int i = 0; i < n && found < 0; i++) {
            char cvar[256], desc[1024];
            int cvarLength = sizeof cvar, descLength = sizeof desc, verbosity = 0, bind = 0, scope = 0;
            MPI_Datatype type;
            MPI_T_enum enumeration;
            if (MPI_T_cvar_get_info(i, cvar, &cvarLength, &verbosity, &type, &enumeration, desc, &descLength,
                                    &bind, &scope) != MPI_SUCCESS || strcmp(cvar, name) != 0) continue;
            if (type != MPI_INT || bind != MPI_T_BIND_NO_OBJECT) break;
            MPI_T_cvar_handle handle;
            int count = 0;
            if (MPI_T_cvar_handle_alloc(i, NULL, &handle, &count) != MPI_SUCCESS) break;
            if (count == 1 && MPI_T_cvar_read(handle, value) == MPI_SUCCESS) found = 0;
            MPI_T_cvar_handle_free(&handle);
        }
    }
    MPI_T_finalize();
    return found;
}

// bfloat16 sums for the lower-precision gradient exchange: each pair is widened to float, added in float
// and rounded back to the nearest bfloat16 (ties to even; NaN stays NaN).
static inline float sift_bf16_to_float(uint16_t h) {
    union { uint32_t u; float f; } v = { (uint32_t)h << 16 };
    return v.f;
}
static inline uint16_t sift_float_to_bf16(float f) {
    union { float f; uint32_t u; } v = { f };
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40u);
    v.u += 0x7fffu + ((v.u >> 16) & 1u);
    return (uint16_t)(v.u >> 16);
}
static void sift_bf16_sum_function(void *in, void *inout, int *len, MPI_Datatype *type) {
    (void)type;
    const uint16_t *a = (const uint16_t *)in;
    uint16_t *b = (uint16_t *)inout;
    for (int i = 0; i < *len; i++) b[i] = sift_float_to_bf16(sift_bf16_to_float(a[i]) + sift_bf16_to_float(b[i]));
}
/// The bfloat16 sum as an MPI operation (created once per process, after MPI_Init).
static inline MPI_Op sift_mpi_bf16_sum(void) {
    static MPI_Op op = MPI_OP_NULL;
    if (op == MPI_OP_NULL) MPI_Op_create(sift_bf16_sum_function, 1, &op);
    return op;
}
#endif
