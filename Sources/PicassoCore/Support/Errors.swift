/// Errors a user can cause, with one-line messages meant to be printed as they are.
public enum PicassoError: Error, CustomStringConvertible {
  /// A file that cannot be read or is not what it should be: the path and the reason.
  case file(String, String)
  /// A bad option value or combination.
  case badInput(String)

  public var description: String {
    switch self {
    case .file(let path, let why): return "\(path): \(why)"
    case .badInput(let why): return why
    }
  }
}
