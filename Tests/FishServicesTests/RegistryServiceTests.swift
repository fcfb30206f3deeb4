import FishServices
import FishStore
import FishTestSupport
import Foundation
import Testing

@Suite struct RegistryServiceTests {
    /// A context whose registry holds `fish` v1...v(count), each evaluated on "test-split-A"
    /// with the given macro-F1 values.
    func context(macroF1: [Double]) throws -> ServiceContext {
        let context = try ServiceContext(
            config: FishConfig(home: try Fixtures.temporaryDirectory(), threads: 1),
            environment: ["FISHOPS_USER": "ana"])
        for value in macroF1 {
            let version = try context.store.registerVersion(model: "fish", actor: context.actor) {
                try TestPackages.write(home: context.config.home, model: "fish", version: $0)
            }
            try context.store.addEvaluation(
                model: "fish", version: version.version, evaluationData: "test-split-A",
                metrics: ["macro_f1": value, "accuracy": value])
        }
        return context
    }

    @Test func firstPromotionNeedsOnlyAReason() throws {
        let registry = RegistryService(context: try context(macroF1: [0.80]))
        #expect(throws: StoreError.self) { _ = try registry.promote(model: "fish", version: 1, reason: " ") }
        let promotion = try registry.promote(model: "fish", version: 1, reason: "first model")
        #expect(promotion.gate.passed && promotion.move.fromVersion == nil && promotion.move.toVersion == 1)
    }

    @Test func worseCandidateIsRefusedWithBothNumbers() throws {
        let context = try context(macroF1: [0.84, 0.81, 0.90])
        let registry = RegistryService(context: context)
        _ = try registry.promote(model: "fish", version: 1, reason: "first")
        #expect {
            _ = try registry.promote(model: "fish", version: 2, reason: "try")
        } throws: { error in
            guard case let .gateRefused(message)? = error as? StoreError else { return false }
            return message.contains("0.8100") && message.contains("0.8400") && message.contains("--force")
        }
        #expect(try context.store.aliases(model: "fish") == ["production": 1])
        let refused = try #require(try context.store.auditLog(model: "fish").last)
        #expect(refused.outcome == .refused && refused.toVersion == 2 && refused.actor == "ana")

        let forced = try registry.promote(model: "fish", version: 2, reason: "hotfix for one class", force: true)
        #expect(forced.forced && forced.move.fromVersion == 1)
        #expect(try context.store.auditLog(model: "fish").last?.reason == "[forced] hotfix for one class")

        let better = try registry.promote(model: "fish", version: 3, reason: "better")
        #expect(!better.forced && better.gate.currentValue == 0.81 && better.gate.candidateValue == 0.90)
    }

    @Test func differentEvaluationDataCannotBeCompared() throws {
        let context = try context(macroF1: [0.84])
        let version = try context.store.registerVersion(model: "fish", actor: context.actor) {
            try TestPackages.write(home: context.config.home, model: "fish", version: $0)
        }
        try context.store.addEvaluation(
            model: "fish", version: version.version, evaluationData: "test-split-B", metrics: ["macro_f1": 0.99])
        let registry = RegistryService(context: context)
        _ = try registry.promote(model: "fish", version: 1, reason: "first")
        let verdict = try registry.gate(model: "fish", version: 2)
        #expect(!verdict.passed && verdict.explanation.contains("test-split-B"))
    }

    @Test func rollbackReturnsToThePreviousHolder() throws {
        let context = try context(macroF1: [0.80, 0.85])
        let registry = RegistryService(context: context)
        #expect(throws: StoreError.self) { _ = try registry.rollback(model: "fish", reason: "nothing yet") }
        _ = try registry.promote(model: "fish", version: 1, reason: "first")
        _ = try registry.promote(model: "fish", version: 2, reason: "better")
        let move = try registry.rollback(model: "fish", reason: "complaints from the quay")
        #expect(move.fromVersion == 2 && move.toVersion == 1)
        #expect(try context.store.auditLog(model: "fish").last?.action == .rollback)
        #expect(try context.store.aliases(model: "fish") == ["production": 1])
    }

    @Test func unknownModelsAndVersionsAreExplained() throws {
        let registry = RegistryService(context: try context(macroF1: [0.8]))
        #expect(throws: StoreError.self) { _ = try registry.detail(model: "cod") }
        #expect(throws: StoreError.self) { _ = try registry.promote(model: "fish", version: 7, reason: "x") }
    }
}
