/// sift against DDP at one rate and model.
public struct NetworkDDPRow: Codable, Sendable {
    public var rate: String
    public var model: String
    public var siftStepSeconds: Double
    public var ddpStepSeconds: Double?
    public var ddpBf16StepSeconds: Double?
}
