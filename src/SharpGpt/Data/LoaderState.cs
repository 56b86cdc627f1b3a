namespace SharpGpt.Data;

/// <summary>Where a <see cref="TokenDataLoader"/> is in its split, for checkpoints. <see cref="Position"/> is the
/// token offset of the next step in the shard, the same on every rank (rank r reads at Position + r·B·T); for
/// fine-tuning data read in packed rows, the row the next step starts at (rank r reads from row Position + r·B).</summary>
internal readonly record struct LoaderState(int ShardIndex, long Position);
