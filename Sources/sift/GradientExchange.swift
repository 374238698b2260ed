import ArgumentParser

/// `--gradient-exchange`: the number format gradients cross the network in.
enum GradientExchange: String, ExpressibleByArgument, CaseIterable {
    case fp32, bf16
}
