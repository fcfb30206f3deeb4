import FishServices
import Testing

struct TrainingPresetTests {
    @Test func fastIsTheDefaultsAndAccurateFineTunesLite2sLastFourBlocks() {
        var fast = TrainingSpec(data: "fish")
        TrainingPreset.fast.apply(to: &fast)
        var defaults = TrainingSpec(data: "fish")
        defaults.preset = .fast
        #expect(fast == defaults)

        var accurate = TrainingSpec(data: "fish")
        TrainingPreset.accurate.apply(to: &accurate)
        #expect(accurate.backbone == "imagenet-lite2")
        #expect(accurate.finetune?.unfreezeFrom == 17)
        #expect(accurate.fit == .centerCrop)
        #expect(accurate.problem == nil)
    }
}
