import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// How `fishops serve` stops without resetting a request. Closing a kept-alive connection that looks
/// idle races with a client that has just sent its next request on it, which then sees a reset. So
/// on SIGTERM the server first drains: it keeps listening and answering, every answer says
/// `Connection: close` and closes its connection, and `/readyz` answers 503; it stops once no
/// connection is open or the drain timeout has passed.
final class ConnectionDrain: Sendable {
    private struct State {
        var open = 0
        var draining = false
    }

    private let state = Mutex(State())

    /// Whether the server is draining.
    var isDraining: Bool { state.withLock { $0.draining } }

    /// Connections open now.
    var openConnections: Int { state.withLock { $0.open } }

    /// From now on every answer closes its connection.
    func start() { state.withLock { $0.draining = true } }

    /// Returns once no connection is open, `timeout` has passed or the task is cancelled.
    func waitUntilClosed(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while openConnections > 0, ContinuousClock.now < deadline {
            do { try await Task.sleep(for: .milliseconds(10)) } catch { return }
        }
    }

    /// The handler that counts one connection and closes it after its next answer while draining.
    func handler() -> DrainHandler { DrainHandler(drain: self) }

    fileprivate func opened() { state.withLock { $0.open += 1 } }
    fileprivate func closed() { state.withLock { $0.open -= 1 } }
}

/// One connection's part of a `ConnectionDrain`.
final class DrainHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let drain: ConnectionDrain
    private var counted = false
    private var closesAfterAnswer = false

    fileprivate init(drain: ConnectionDrain) { self.drain = drain }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { count() }
    }

    func handlerRemoved(context: ChannelHandlerContext) { uncount() }

    func channelActive(context: ChannelHandlerContext) {
        count()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        uncount()
        context.fireChannelInactive()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case var .head(head) where head.status.kind != .informational && drain.isDraining:
            head.headerFields[.connection] = "close"
            closesAfterAnswer = true
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end where closesAfterAnswer:
            let written = promise ?? context.eventLoop.makePromise()
            let channel = context.channel
            context.write(data, promise: written)
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        default:
            context.write(data, promise: promise)
        }
    }

    private func count() {
        guard !counted else { return }
        counted = true
        drain.opened()
    }

    private func uncount() {
        guard counted else { return }
        counted = false
        drain.closed()
    }
}
