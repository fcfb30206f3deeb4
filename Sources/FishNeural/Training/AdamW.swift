import Foundation

/// Gradients with the shapes of a head's parameters.
public struct HeadGradients: Sendable {
    public var hiddenWeights: [Float]
    public var hiddenBias: [Float]
    public var outputWeights: [Float]
    public var outputBias: [Float]

    init(head: ClassifierHead) {
        hiddenWeights = [Float](repeating: 0, count: head.hiddenWeights.count)
        hiddenBias = [Float](repeating: 0, count: head.hiddenBias.count)
        outputWeights = [Float](repeating: 0, count: head.outputWeights.count)
        outputBias = [Float](repeating: 0, count: head.outputBias.count)
    }
}

/// Adam with decoupled weight decay (Loshchilov & Hutter), applied to weights but not biases.
struct AdamW {
    private var moments: HeadGradients
    private var squares: HeadGradients
    private var step = 0
    private let beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8

    init(head: ClassifierHead) {
        moments = HeadGradients(head: head)
        squares = HeadGradients(head: head)
    }

    mutating func step(_ head: inout ClassifierHead, gradients: HeadGradients, learningRate: Double, weightDecay: Double) {
        step += 1
        let correction1 = 1 - pow(beta1, Float(step))
        let correction2 = 1 - pow(beta2, Float(step))
        let rate = Float(learningRate)
        let decay = Float(learningRate * weightDecay)
        func update(_ values: inout [Float], _ gradient: [Float], _ m: inout [Float], _ v: inout [Float], decays: Bool) {
            for index in values.indices {
                let g = gradient[index]
                m[index] = beta1 * m[index] + (1 - beta1) * g
                v[index] = beta2 * v[index] + (1 - beta2) * g * g
                let adaptive = (m[index] / correction1) / ((v[index] / correction2).squareRoot() + epsilon)
                values[index] -= rate * adaptive + (decays ? decay * values[index] : 0)
            }
        }
        update(&head.hiddenWeights, gradients.hiddenWeights, &moments.hiddenWeights, &squares.hiddenWeights, decays: true)
        update(&head.hiddenBias, gradients.hiddenBias, &moments.hiddenBias, &squares.hiddenBias, decays: false)
        update(&head.outputWeights, gradients.outputWeights, &moments.outputWeights, &squares.outputWeights, decays: true)
        update(&head.outputBias, gradients.outputBias, &moments.outputBias, &squares.outputBias, decays: false)
    }
}
