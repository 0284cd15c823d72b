namespace ShadowIo.Generator.Model;

/// <summary>
/// What the pipeline keeps of one [RegisterBlock] class: the model of a valid block, or what an
/// invalid block's declarations still need generated; both null when nothing can be generated.
/// </summary>
/// <remarks>Immutable and equatable by value, like every model (see <see cref="BlockModel"/>).</remarks>
public sealed record ParsedBlock(BlockModel? Valid, InvalidBlockModel? Invalid);
