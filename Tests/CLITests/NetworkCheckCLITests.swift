import Foundation
import Model
import SiftTestSupport
import XCTest

/// `sift project --check-network` through the real binary on a hand-made launch/cluster_bench.sh JSON:
/// every run is printed, a shaped-link row's prediction is the unshaped run's compute and untimed rest
/// plus the link's allreduce worked out here, rows off by more than the tolerance are flagged, DDP rows
/// are compared with sift's, and a file of the wrong kind fails with one line.
final class NetworkCheckCLITests: XCTestCase {
    func run(rate: String, bits: Double?, policy: String, overlap: Bool, step: Double) -> [String: Any] {
        var r: [String: Any] = [
            "rate": rate, "model": "tiny", "policy": policy, "overlap": overlap, "hosts": 2, "ranks": 2,
            "batch_size": 32, "per_rank_batch": 16, "select_fraction": 0.5, "bucket_mb": 4.0, "micro_batch": 32,
            "step_s": step, "load_average_before": 0.1,
            "times": [
                "data": 0.001, "scoring": policy == "sift" ? 0.05 : 0, "selection": 0.0,
                "forward_backward": 0.4, "exposed_allreduce": 0.02, "optimizer": 0.02, "waiting": 0.01
            ]
        ]
        if let bits { r["rate_bits_per_s"] = bits }
        return r
    }

    func testPredictsEveryRowFromTheUnshapedRun() throws {
        let d = temporaryDirectory("netcheck")
        let doc: [String: Any] = [
            "hosts": 2, "cores": 2, "cpu": "test", "vocab_size": 400, "seq_len": 128, "steps": 12,
            "runs": [
                run(rate: "unlimited", bits: nil, policy: "vanilla", overlap: false, step: 0.5),
                run(rate: "1gbit", bits: 1e9, policy: "vanilla", overlap: false, step: 0.52),
                run(rate: "500mbit", bits: 5e8, policy: "vanilla", overlap: false, step: 2.0),
                run(rate: "unlimited", bits: nil, policy: "sift", overlap: true, step: 0.6),
                run(rate: "1gbit", bits: 1e9, policy: "sift", overlap: true, step: 0.6),
                run(rate: "unlimited", bits: nil, policy: "vanilla", overlap: true, step: 0.5),
                run(rate: "1gbit", bits: 1e9, policy: "vanilla", overlap: true, step: 0.6)
            ],
            "ddp": [
                [
                    "engine": "ddp", "rate": "1gbit", "rate_bits_per_s": 1e9, "model": "tiny", "hosts": 2, "ranks": 2,
                    "batch_size": 32, "step_s": 1.2, "times": ["forward": 0.2, "backward": 0.6, "optimizer": 0.1]
                ]
            ]
        ]
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: d + "/network.json"))
        let out = try SiftProcess.run(
            [
                "project", "--check-network", d + "/network.json", "--link-efficiency", "1",
                "--per-bucket-us", "0", "--latency-us", "0", "--json", d + "/check.json"
            ], timeout: 60)
        XCTAssertEqual(out.status, 0, out.stderr)
        for needle in ["500mbit", "1gbit", "unlimited", "OVER", "DDP/sift", "2.00"] {
            XCTAssertTrue(out.stdout.contains(needle), "no '\(needle)' in: \(out.stdout)")
        }
        let report = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d + "/check.json")))
                as? [String: Any])
        let rows = try XCTUnwrap(report["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 7)
        func row(_ rate: String, _ policy: String) throws -> [String: Any] {
            try XCTUnwrap(
                rows.first { $0["rate"] as? String == rate && $0["policy"] as? String == policy && $0["overlap"] as? Bool == false })
        }
        // Without overlap, α = 0 and e = 1: compute (16 samples' forward/backward, data, optimizer) + the
        // unshaped run's untimed rest (0.5 − 0.451) + the whole gradient once over the link (S·8/R).
        let bytes = Double(ParameterLayout(config: BertConfig.named("tiny", vocabSize: 400)!).totalCount * 4)
        for (rate, bits) in [("1gbit", 1e9), ("500mbit", 5e8)] {
            let r = try row(rate, "vanilla")
            let expected = 0.4 + 0.001 + 0.02 + (0.5 - 0.451) + bytes * 8 / bits
            XCTAssertEqual(try XCTUnwrap(r["predicted_step_seconds"] as? Double), expected, accuracy: 1e-9, rate)
        }
        XCTAssertEqual(try row("500mbit", "vanilla")["over_tolerance"] as? Bool, true)
        XCTAssertEqual(try row("1gbit", "vanilla")["over_tolerance"] as? Bool, abs((0.47 + bytes * 8 / 1e9) / 0.52 - 1) > 0.15)
        // The unshaped row predicts itself with its measured communication (0.03 s) replaced by the
        // model's, which is 0 at α = 0 and an unbounded rate.
        XCTAssertEqual(try XCTUnwrap(try row("unlimited", "vanilla")["predicted_step_seconds"] as? Double), 0.47, accuracy: 1e-9)
        let ddp = try XCTUnwrap((report["ddp"] as? [[String: Any]])?.first)
        XCTAssertEqual(ddp["sift_step_seconds"] as? Double, 0.6)
        XCTAssertEqual(ddp["ddp_step_seconds"] as? Double, 1.2)
    }

    /// A SIFT run that does not record its ρ is refused with one line (the check assumed ρ = 0.5 for it).
    func testASiftRunWithoutItsSelectFractionIsRefused() throws {
        let d = temporaryDirectory("netcheck-rho")
        var sift = run(rate: "1gbit", bits: 1e9, policy: "sift", overlap: true, step: 0.6)
        sift.removeValue(forKey: "select_fraction")
        let doc: [String: Any] = [
            "hosts": 2, "cores": 2, "vocab_size": 400,
            "runs": [run(rate: "unlimited", bits: nil, policy: "sift", overlap: true, step: 0.6), sift]
        ]
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: d + "/network.json"))
        let out = try SiftProcess.run(["project", "--check-network", d + "/network.json"], timeout: 60)
        XCTAssertEqual(out.status, 2, out.stdout + out.stderr)
        XCTAssertEqual(out.stderr.split(separator: "\n").count, 1, out.stderr)
        XCTAssertTrue(
            out.stderr.hasPrefix("error: ") && out.stderr.contains("the sift run at 1gbit (tiny) records no select_fraction"),
            out.stderr)
    }

    func testWrongFileFailsWithOneLine() throws {
        let d = temporaryDirectory("netcheck")
        try "{\"runs\": []}".write(toFile: d + "/bad.json", atomically: true, encoding: .utf8)
        for (args, needle) in [
            (["--check-network", d + "/bad.json"], "cluster_bench.sh"),
            (["--check-network", d + "/none.json"], "none.json"),
            (["--check-network", d + "/bad.json", "--overlap-progress", "2"], "--overlap-progress")
        ] {
            let out = try SiftProcess.run(["project"] + args, timeout: 60)
            XCTAssertNotEqual(out.status, 0, "\(args) succeeded")
            XCTAssertEqual(out.stderr.split(separator: "\n").count, 1, out.stderr)
            XCTAssertTrue(out.stderr.hasPrefix("error: ") && out.stderr.contains(needle), out.stderr)
        }
    }
}
