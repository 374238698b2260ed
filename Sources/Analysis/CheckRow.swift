import Selection

/// One run of a scaling check: measured against predicted.
public struct CheckRow: Codable, Sendable {
    public var mode: String
    public var policy: SelectionPolicy
    public var ranks: Int
    public var batchSize: Int
    public var measuredStepSeconds: Double
    public var predictedStepSeconds: Double
    public var relativeError: Double
    public var computeScale: Double
    public var predictedComputeSeconds: Double
    public var predictedCommunicationSeconds: Double
    public var measuredCommunicationAndWaitingSeconds: Double
    public var measuredComputeSeconds: Double
    public var predictedStepSecondsWithMeasuredAllreduce: Double?
    public var measuredEfficiency: Double
    public var predictedEfficiency: Double
}
