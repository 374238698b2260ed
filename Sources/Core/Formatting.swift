import Foundation

/// Formats a number with `decimals` digits after the point ("—" for nil or non-finite).
public func fmt(_ x: Double?, _ decimals: Int) -> String {
    guard let x, x.isFinite else { return "—" }
    return String(format: "%.\(decimals)f", x)
}

/// Formats a fraction as a percentage ("12.3%"), "—" for nil.
public func pct(_ x: Double?, _ decimals: Int = 1) -> String {
    guard let x, x.isFinite else { return "—" }
    return String(format: "%.\(decimals)f%%", 100 * x)
}

/// Formats a signed fraction as a percentage ("+8.1%").
public func signedPct(_ x: Double?, _ decimals: Int = 1) -> String {
    guard let x, x.isFinite else { return "—" }
    return String(format: "%+.\(decimals)f%%", 100 * x)
}

/// Formats seconds with a unit, three significant digits below 100 s ("12.3 ms", "1.25 s", "820 µs").
public func formatSeconds(_ s: Double?) -> String {
    guard let s, s.isFinite else { return "—" }
    if s == 0 { return "0" }
    if s >= 100 { return String(format: "%.0f s", s) }
    if s >= 1 { return String(format: "%.3g s", s) }
    if s >= 1e-3 { return String(format: "%.3g ms", s * 1e3) }
    return String(format: "%.3g µs", s * 1e6)
}
