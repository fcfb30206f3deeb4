import FishNeural
import Testing

/// The family's shapes, derived from Lite0's stages by the width and depth coefficients.
struct EfficientNetLiteTests {
    /// Output channels of each stage's blocks, in order, with the repeats.
    static func stages(_ network: EfficientNetLite) -> [[Int]] {
        var stages: [[Int]] = []
        for block in network.blocks {
            if stages.last?.last != block.outputChannels { stages.append([]) }
            stages[stages.count - 1].append(block.outputChannels)
        }
        return stages
    }

    @Test func membersScaleTheMiddleStagesAndKeepStemHeadAndEnds() {
        #expect(Self.stages(.lite0).map(\.count) == [1, 2, 2, 3, 3, 4, 1])
        #expect(Self.stages(.lite1).map(\.count) == [1, 3, 3, 4, 4, 5, 1])
        #expect(Self.stages(.lite2).map(\.count) == [1, 3, 3, 4, 4, 5, 1])
        #expect(Self.stages(.lite1).map { $0[0] } == [16, 24, 40, 80, 112, 192, 320])
        #expect(Self.stages(.lite2).map { $0[0] } == [16, 24, 48, 88, 120, 208, 352])
        #expect(EfficientNetLite.family.map(\.inputSize) == [224, 240, 260])
        #expect(EfficientNetLite.lite2.blocks[0].inputChannels == EfficientNetLite.stemChannels)
    }

    @Test func lateBlocksStartAtOneSixteenthOfTheInput() {
        for network in EfficientNetLite.family {
            let first = network.firstBlockAtOneSixteenth
            #expect(network.shape(size: network.inputSize, beforeBlock: first).side == (network.inputSize + 15) / 16)
            #expect(network.shape(size: network.inputSize, beforeBlock: first - 1).side > (network.inputSize + 15) / 16)
        }
        #expect(EfficientNetLite.lite0.firstBlockAtOneSixteenth == 6)
    }

    @Test func membersAreFoundByName() {
        #expect(EfficientNetLite.named("lite2") == .lite2)
        #expect(EfficientNetLite.named("efficientnet-lite1") == .lite1)
        #expect(EfficientNetLite.named("lite7") == nil)
    }
}
