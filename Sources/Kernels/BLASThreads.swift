import COpenBLAS

extension BLAS {
    /// Number of threads OpenBLAS uses for one call (set from `OPENBLAS_NUM_THREADS` at start-up).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}
