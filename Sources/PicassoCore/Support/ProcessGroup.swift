import CMPI
import Foundation

/// The processes that train one model together (`mpirun -np N picasso train …`): every
/// batch is split over them, and their gradients and losses are summed so that each applies
/// the same step. A trainer without a group is a group of one.
public protocol ProcessGroup: AnyObject {
  var rank: Int { get }
  var size: Int { get }
  /// Replaces `values`, on every process, by their element-wise sum over the processes.
  /// Every process receives the same sums, and a run repeats them for a given size.
  func sum(_ values: inout [Float])
  func sum(_ values: inout [Double])
}

/// The ranks of an Open MPI job. MPI starts only in a process that `mpirun` launched, and
/// only on the first use of `MPIJob.world`.
public final class MPIJob: ProcessGroup {
  public let rank: Int
  public let size: Int

  /// Rank, size and ranks on this machine as Open MPI's launcher sets them in the
  /// environment (read without starting MPI); nil outside mpirun.
  public static func launched(_ environment: [String: String] = ProcessInfo.processInfo.environment)
    -> (rank: Int, size: Int, localSize: Int)?
  {
    guard let rank = environment["OMPI_COMM_WORLD_RANK"].flatMap(Int.init),
          let size = environment["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init), size >= 1, (0..<size).contains(rank)
    else { return nil }
    let local = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
    return (rank, size, max(1, local))
  }

  /// Threads for each rank's share of a step: the cores this process may use, shared with
  /// the other ranks on this machine unless the launcher has already bound each rank to its
  /// own cores (fewer usable than present). One process alone uses them all.
  public static func coresPerRank(_ job: MPIJob?) -> Int {
    guard job != nil, let local = launched()?.localSize else { return computeThreads }
    let bound = ProcessInfo.processInfo.activeProcessorCount < ProcessInfo.processInfo.processorCount
    return bound ? computeThreads : max(1, computeThreads / local)
  }

  /// The job, with MPI started (calls from the main thread only); nil outside mpirun.
  nonisolated(unsafe) public private(set) static var world: MPIJob? = {
    guard launched() != nil else { return nil }
    var provided: Int32 = 0
    guard MPI_Init_thread(nil, nil, picasso_mpi_thread_funneled(), &provided) == MPI_SUCCESS else { return nil }
    var rank: Int32 = 0, size: Int32 = 0
    MPI_Comm_rank(picasso_mpi_world(), &rank)
    MPI_Comm_size(picasso_mpi_world(), &size)
    return MPIJob(rank: Int(rank), size: Int(size))
  }()

  private init(rank: Int, size: Int) { (self.rank, self.size) = (rank, size) }

  public func sum(_ values: inout [Float]) {
    values.withUnsafeMutableBufferPointer {
      _ = MPI_Allreduce(picasso_mpi_in_place(), $0.baseAddress, Int32($0.count), picasso_mpi_float(), picasso_mpi_sum(), picasso_mpi_world())
    }
  }

  public func sum(_ values: inout [Double]) {
    values.withUnsafeMutableBufferPointer {
      _ = MPI_Allreduce(picasso_mpi_in_place(), $0.baseAddress, Int32($0.count), picasso_mpi_double(), picasso_mpi_sum(), picasso_mpi_world())
    }
  }

  /// Ends MPI for a process that is done (every rank calls it before exiting normally).
  public func finish() { MPI_Finalize() }

  /// Ends every rank of the job with `code` (after an error on this one, so that the others,
  /// waiting in a sum, do not wait forever).
  public func abort(_ code: Int32) -> Never {
    MPI_Abort(picasso_mpi_world(), code)
    exit(code)
  }
}
