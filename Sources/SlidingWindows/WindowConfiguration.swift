/// The shape of the event-time windows: width, hop and allowed lateness, in milliseconds.
///
/// The window ending at `t` (a multiple of `hopMilliseconds`) is the half-open interval
/// `[t − width, t)`: a record at exactly `t − width` is in it, one at `t` is not. It is
/// evaluated once the watermark (the largest event time seen, minus the lateness) has
/// reached `t`, so a record up to `latenessMilliseconds` behind the newest one still counts
/// in every window it belongs to.
public struct WindowConfiguration: Sendable, Equatable {
    public let widthMilliseconds: Int64
    public let hopMilliseconds: Int64
    public let latenessMilliseconds: Int64

    /// The defaults: a 60-minute window every minute, records up to 10 minutes late.
    public static let standard = WindowConfiguration(unchecked: 3_600_000, 60_000, 600_000)

    /// - Throws: `WindowConfiguration.Invalid` unless the hop is positive and divides the
    ///   width, and the lateness is not negative.
    public init(widthMilliseconds: Int64, hopMilliseconds: Int64, latenessMilliseconds: Int64)
        throws(Invalid)
    {
        guard hopMilliseconds > 0, widthMilliseconds >= hopMilliseconds,
            widthMilliseconds % hopMilliseconds == 0
        else { throw Invalid(reason: "the window width must be a positive multiple of the hop") }
        guard latenessMilliseconds >= 0 else {
            throw Invalid(reason: "the allowed lateness cannot be negative")
        }
        self.init(unchecked: widthMilliseconds, hopMilliseconds, latenessMilliseconds)
    }

    private init(unchecked width: Int64, _ hop: Int64, _ lateness: Int64) {
        widthMilliseconds = width
        hopMilliseconds = hop
        latenessMilliseconds = lateness
    }

    /// Why a configuration was refused.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Hops in one window.
    @inlinable
    public var hopsPerWindow: Int { Int(widthMilliseconds / hopMilliseconds) }

    /// The hop bucket holding `time`: bucket `b` covers `[b·hop, (b+1)·hop)`.
    @inlinable @inline(__always)
    public func bucket(of time: Int64) -> Int64 {
        time >= 0 ? time / hopMilliseconds : (time - hopMilliseconds + 1) / hopMilliseconds
    }
}
