/// How the trainer cuts its flat gradient into allreduce buckets (`GradientBuckets`), and so what the
/// scaling model prices (`ScalingModel.bucketSplit`): one plan for both.
public enum GradientBucketPlan {
    /// Cuts `0..<count` into ranges of `bucketElements` from the end; the last range (at offset 0) may be shorter.
    public static func ranges(count: Int, bucketElements: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var end = count
        while end > 0 {
            let start = max(0, end - bucketElements)
            ranges.append(start..<end)
            end = start
        }
        return ranges
    }
}
