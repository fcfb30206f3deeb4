/// A value produced by `Unpickler`: the subset of Python objects that PyTorch checkpoints use.
indirect enum PickleValue: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// A reference to a Python class or function (`GLOBAL module name`).
    case global(module: String, name: String)
    /// The result of calling a global that the reader does not model itself.
    case call(function: PickleValue, arguments: PickleValue)
    /// A persistent id: PyTorch uses these to refer to tensor storages stored beside the pickle.
    case persistent(PickleValue)

    var string: String? { if case let .string(value) = self { value } else { nil } }
    var int: Int? {
        switch self {
        case let .int(value): value
        case let .bool(value): value ? 1 : 0
        default: nil
        }
    }
    var tuple: [PickleValue]? {
        switch self {
        case let .tuple(items): items
        case let .list(list): list.items
        default: nil
        }
    }
}

/// A mutable Python list (pickle builds lists and dicts by mutation after memoising them).
final class PickleList: @unchecked Sendable {
    var items: [PickleValue] = []
}

/// A mutable Python dict, insertion-ordered.
final class PickleDict: @unchecked Sendable {
    var entries: [(key: PickleValue, value: PickleValue)] = []

    subscript(key: String) -> PickleValue? {
        entries.first { $0.key.string == key }?.value
    }
}

/// Reads a pickle stream (protocols 0-5, the opcodes PyTorch writes) without executing code:
/// globals stay symbolic and calls become `.call` values, except those the reader is told to build.
struct Unpickler {
    enum Failure: Error { case malformed(String) }

    private let bytes: [UInt8]
    private(set) var position: Int
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// Builds the value of a call to a known global; returns nil to keep it symbolic.
    private let reduce: (PickleValue, PickleValue) throws -> PickleValue?

    init(bytes: [UInt8], position: Int = 0, reduce: @escaping (PickleValue, PickleValue) throws -> PickleValue?) {
        self.bytes = bytes
        self.position = position
        self.reduce = reduce
    }

    /// Reads one pickle (up to its STOP opcode) and returns its value.
    mutating func load() throws -> PickleValue {
        stack.removeAll()
        marks.removeAll()
        memo.removeAll()
        while true {
            let opcode = try readByte()
            if opcode == 0x2E { return try pop() }  // STOP
            try execute(opcode)
        }
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private mutating func execute(_ opcode: UInt8) throws {
        switch opcode {
        case 0x80: _ = try readByte()                                   // PROTO
        case 0x95: position += 8                                        // FRAME
        case 0x28: marks.append(stack.count)                            // MARK
        case 0x4E: stack.append(.none)                                  // NONE
        case 0x88: stack.append(.bool(true))                            // NEWTRUE
        case 0x89: stack.append(.bool(false))                           // NEWFALSE
        case 0x4B: stack.append(.int(Int(try readByte())))              // BININT1
        case 0x4D: stack.append(.int(try readUInt(2)))                  // BININT2
        case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try readUInt(4)))))  // BININT
        case 0x8A: stack.append(.int(try readLong(Int(try readByte())))) // LONG1
        case 0x47: stack.append(.float(Double(bitPattern: try readBigEndian64())))  // BINFLOAT
        case 0x58: stack.append(.string(try readString(try readUInt(4)))) // BINUNICODE
        case 0x8C: stack.append(.string(try readString(Int(try readByte())))) // SHORT_BINUNICODE
        case 0x8D: stack.append(.string(try readString(try readUInt(8)))) // BINUNICODE8
        case 0x55: stack.append(.string(try readString(Int(try readByte())))) // SHORT_BINSTRING
        case 0x54: stack.append(.string(try readString(try readUInt(4)))) // BINSTRING
        case 0x43: stack.append(.bytes(try readBytes(Int(try readByte())))) // SHORT_BINBYTES
        case 0x42: stack.append(.bytes(try readBytes(try readUInt(4))))  // BINBYTES
        case 0x29: stack.append(.tuple([]))                             // EMPTY_TUPLE
        case 0x74: stack.append(.tuple(try popMark()))                  // TUPLE
        case 0x85: stack.append(.tuple(try popCount(1)))                // TUPLE1
        case 0x86: stack.append(.tuple(try popCount(2)))                // TUPLE2
        case 0x87: stack.append(.tuple(try popCount(3)))                // TUPLE3
        case 0x5D: stack.append(.list(PickleList()))                    // EMPTY_LIST
        case 0x7D: stack.append(.dict(PickleDict()))                    // EMPTY_DICT
        case 0x61:                                                      // APPEND
            let item = try pop()
            try list(at: stack.count - 1).items.append(item)
        case 0x65:                                                      // APPENDS
            let items = try popMark()
            try list(at: stack.count - 1).items.append(contentsOf: items)
        case 0x73:                                                      // SETITEM
            let value = try pop(), key = try pop()
            try dict(at: stack.count - 1).entries.append((key, value))
        case 0x75:                                                      // SETITEMS
            let items = try popMark()
            guard items.count % 2 == 0 else { throw Failure.malformed("odd SETITEMS") }
            let target = try dict(at: stack.count - 1)
            for index in stride(from: 0, to: items.count, by: 2) {
                target.entries.append((items[index], items[index + 1]))
            }
        case 0x63:                                                      // GLOBAL
            let module = try readLine(), name = try readLine()
            stack.append(.global(module: module, name: name))
        case 0x93:                                                      // STACK_GLOBAL
            let name = try pop(), module = try pop()
            guard let module = module.string, let name = name.string else { throw Failure.malformed("bad STACK_GLOBAL") }
            stack.append(.global(module: module, name: name))
        case 0x52:                                                      // REDUCE
            let arguments = try pop(), function = try pop()
            stack.append(try reduce(function, arguments) ?? .call(function: function, arguments: arguments))
        case 0x81:                                                      // NEWOBJ
            let arguments = try pop(), cls = try pop()
            stack.append(.call(function: cls, arguments: arguments))
        case 0x62: _ = try pop()                                        // BUILD: state is not needed
        case 0x51: stack.append(.persistent(try pop()))                 // BINPERSID
        case 0x71: memo[Int(try readByte())] = try top()                // BINPUT
        case 0x72: memo[try readUInt(4)] = try top()                    // LONG_BINPUT
        case 0x94: memo[memo.count] = try top()                         // MEMOIZE
        case 0x68: stack.append(try memoized(Int(try readByte())))      // BINGET
        case 0x6A: stack.append(try memoized(try readUInt(4)))          // LONG_BINGET
        case 0x30: _ = try pop()                                        // POP
        case 0x32: stack.append(try top())                              // DUP
        case 0x31: _ = try popMark()                                    // POP_MARK
        default:
            throw Failure.malformed("unsupported pickle opcode 0x\(String(opcode, radix: 16)) at byte \(position - 1)")
        }
    }

    private mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw Failure.malformed("unexpected end of pickle data") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func readBytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= bytes.count - position else { throw Failure.malformed("unexpected end of pickle data") }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    private mutating func readUInt(_ count: Int) throws -> Int {
        let raw = try readBytes(count)
        let value = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard value <= UInt64(Int.max) else { throw Failure.malformed("length out of range") }
        return Int(value)
    }

    private mutating func readBigEndian64() throws -> UInt64 {
        try readBytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    private mutating func readLong(_ count: Int) throws -> Int {
        guard count <= 8 else { throw Failure.malformed("integer too large") }
        let raw = try readBytes(count)
        guard let last = raw.last else { return 0 }
        var value = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if last & 0x80 != 0, count < 8 { value |= ~UInt64(0) << (8 * count) }  // sign-extend
        return Int(Int64(bitPattern: value))
    }

    private mutating func readString(_ count: Int) throws -> String {
        String(decoding: try readBytes(count), as: UTF8.self)
    }

    private mutating func readLine() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw Failure.malformed("unterminated GLOBAL") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    private mutating func pop() throws -> PickleValue {
        guard let value = stack.popLast() else { throw Failure.malformed("pickle stack underflow") }
        return value
    }

    private func top() throws -> PickleValue {
        guard let value = stack.last else { throw Failure.malformed("pickle stack underflow") }
        return value
    }

    private mutating func popCount(_ count: Int) throws -> [PickleValue] {
        guard stack.count >= count else { throw Failure.malformed("pickle stack underflow") }
        defer { stack.removeLast(count) }
        return Array(stack.suffix(count))
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast(), mark <= stack.count else { throw Failure.malformed("missing MARK") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    private func memoized(_ index: Int) throws -> PickleValue {
        guard let value = memo[index] else { throw Failure.malformed("unknown memo entry \(index)") }
        return value
    }

    private func list(at index: Int) throws -> PickleList {
        guard index >= 0, case let .list(list) = stack[index] else { throw Failure.malformed("APPEND outside a list") }
        return list
    }

    private func dict(at index: Int) throws -> PickleDict {
        guard index >= 0, case let .dict(dict) = stack[index] else { throw Failure.malformed("SETITEM outside a dict") }
        return dict
    }
}
