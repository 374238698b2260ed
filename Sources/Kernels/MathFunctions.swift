#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `exp` for Float through the C library (kept in one place so kernels do not import Foundation).
@inlinable @inline(__always) public func expf(_ x: Float) -> Float {
    #if canImport(Glibc)
    return Glibc.expf(x)
    #else
    return Darwin.expf(x)
    #endif
}

/// `erf` for Float through the C library.
@inlinable @inline(__always) public func erff(_ x: Float) -> Float {
    #if canImport(Glibc)
    return Glibc.erff(x)
    #else
    return Darwin.erff(x)
    #endif
}

/// Natural logarithm for Float through the C library.
@inlinable @inline(__always) public func logf(_ x: Float) -> Float {
    #if canImport(Glibc)
    return Glibc.logf(x)
    #else
    return Darwin.logf(x)
    #endif
}
