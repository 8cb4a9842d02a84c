import Foundation

/// A one-line progress bar on stderr: done/total, rate, time left and a caller's status.
/// On a terminal it redraws in place (at most 10 times a second); otherwise it prints a line
/// every `logEvery` seconds so logs stay readable.
public final class ProgressBar {
  public let total: Int
  public let unit: String
  private let start = Date()
  private var lastDraw = Date.distantPast
  private let isTerminal = isatty(STDERR_FILENO) != 0
  private let logEvery: TimeInterval
  public private(set) var done = 0
  /// A wall-clock budget in seconds (`picasso train --time`): the time left is at most what
  /// remains of it.
  public var budget: TimeInterval?
  /// Draws nothing (the ranks of an MPI job other than rank 0 keep time but stay quiet).
  public var silent = false

  public init(total: Int, unit: String, logEvery: TimeInterval = 30) {
    self.total = total
    self.unit = unit
    self.logEvery = logEvery
  }

  public var elapsed: TimeInterval { Date().timeIntervalSince(start) }

  /// Marks `done` items complete and redraws if it is time.
  public func update(_ done: Int, status: String = "", force: Bool = false) {
    self.done = done
    if silent { return }
    let now = Date()
    let interval = isTerminal ? 0.1 : logEvery
    guard force || done == total || now.timeIntervalSince(lastDraw) >= interval else { return }
    lastDraw = now
    let rate = Double(done) / max(elapsed, 1e-9)
    var left = rate > 0 ? Double(total - done) / rate : 0
    if let budget { left = min(left, max(0, budget - elapsed)) }
    let width = 24
    let filled = total > 0 ? min(width, width * done / total) : 0
    let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
    let line = String(format: "%@ %d/%d  %.2f %@/s  %@ left  %@", bar, done, total, rate, unit, ProgressBar.clock(left), status)
    FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
  }

  /// Ends the bar's line on a terminal.
  public func finish() {
    if isTerminal && !silent { FileHandle.standardError.write(Data("\n".utf8)) }
  }

  /// "1:02:03" or "4:05".
  public static func clock(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
  }
}
