import ArgumentParser
import Training

/// Hidden `sift train` flags through which the reliability tests inject faults (`FaultInjection`).
struct FaultFlags: ParsableArguments {
    @Option(help: .hidden) var debugStallRank: Int?
    @Option(help: .hidden) var debugStallStep: Int?
    @Option(help: .hidden) var debugNanStep: Int?
    @Option(help: .hidden) var debugStepDelay: Double = 0
    @Option(help: .hidden) var debugDivergeRank: Int?
    @Option(help: .hidden) var debugDivergeStep: Int?
    @Option(help: .hidden) var debugSavePause: Double = 0
    @Option(help: .hidden) var debugFailRank: Int?
    @Option(help: .hidden) var debugFailStep: Int?

    var injection: FaultInjection {
        var f = FaultInjection()
        f.stallRank = debugStallRank
        f.stallStep = debugStallStep
        f.nanStep = debugNanStep
        f.stepDelay = debugStepDelay
        f.divergeRank = debugDivergeRank
        f.divergeStep = debugDivergeStep
        f.savePause = debugSavePause
        f.failRank = debugFailRank
        f.failStep = debugFailStep
        return f
    }
}
