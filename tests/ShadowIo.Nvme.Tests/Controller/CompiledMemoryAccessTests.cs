using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using ShadowIo.Testing;
using ShadowIo.Devices.Nvme;
using ShadowIo.Fuzz.Nvme;
using Xunit;

namespace ShadowIo.Nvme.Tests.Controller;

/// <summary>
/// The compiled form of <see cref="MemoryAccessTests"/>: walks the metadata and IL of every
/// controller type (every type of the device library <c>ShadowIo.Devices.Nvme</c>; the fuzzer, which
/// plays the guest, is the one exception and lives in its own assembly) and collects everything it names — base types, field, signature and local types, every type, method
/// and field token in its IL, and the native-pointer IL opcodes — and fails on anything that is not
/// on <see cref="Allowed"/> or a controller type itself. So a new way to memory (a pointer, a
/// native int, <c>Marshal</c>, <c>Unsafe</c>, <c>MemoryMapping</c>, the test harness and its
/// <c>GuestRam</c>) fails until someone adds it here and says why.
/// </summary>
public sealed class CompiledMemoryAccessTests
{
    private const string ControllerNamespace = "ShadowIo.Devices.Nvme";

    /// <summary>The fuzzer plays the guest (fuzz/ShadowIo.Fuzz.Nvme): not controller code, and not in the controller's assembly.</summary>
    private static string FuzzerAssembly => typeof(ControllerFuzzer).Assembly.GetName().Name!;

    /// <summary>
    /// What controller code may name outside its own types: a type with null may be used with any
    /// member (the member's signature is checked too, so <c>Span&lt;T&gt;(void*, int)</c> still
    /// fails); a type with a list only with those members, taken as they are.
    /// </summary>
    private static readonly Dictionary<string, string[]?> Allowed = new(StringComparer.Ordinal)
    {
        // Values, strings, exceptions and collections: no way to an address.
        ["System.Void"] = null, ["System.Boolean"] = null, ["System.Byte"] = null, ["System.Char"] = null, ["System.UInt16"] = null,
        ["System.Int32"] = null, ["System.UInt32"] = null, ["System.Int64"] = null, ["System.UInt64"] = null, ["System.Double"] = null,
        ["System.String"] = null, ["System.Object"] = null, ["System.ValueType"] = null, ["System.Enum"] = null, ["System.Math"] = null,
        ["System.Array"] = null, ["System.Span`1"] = null, ["System.ReadOnlySpan`1"] = null, ["System.MemoryExtensions"] = null,
        ["System.Index"] = null, ["System.Range"] = null, ["System.ValueTuple`3"] = null, ["System.Nullable`1"] = null,
        ["System.Action"] = null, ["System.Action`1"] = null, ["System.Func`1"] = null,
        ["System.Exception"] = null, ["System.ArgumentException"] = null, ["System.ArgumentNullException"] = null,
        ["System.ArgumentOutOfRangeException"] = null, ["System.ObjectDisposedException"] = null, ["System.IO.IOException"] = null,
        ["System.IDisposable"] = null, ["System.IEquatable`1"] = null, ["System.Type"] = null, ["System.RuntimeTypeHandle"] = null,
        ["System.Collections.Generic.List`1"] = null, ["System.Collections.Generic.Queue`1"] = null, ["System.Collections.Generic.EqualityComparer`1"] = null,
        ["System.Collections.Generic.Dictionary`2"] = null, ["System.Collections.Generic.IReadOnlyDictionary`2"] = null,
        ["System.Collections.Generic.CollectionExtensions"] = ["GetValueOrDefault"], ["System.Collections.Generic.IEnumerable`1"] = null,
        ["System.ValueTuple`2"] = null,
        // A delegate type's compiler-made members (the controller's internal CommandFetched hook;
        // its constructor's IntPtr, the method's address, is allowed for that delegate alone).
        ["System.MulticastDelegate"] = null, ["System.AsyncCallback"] = null, ["System.IAsyncResult"] = null,
        ["System.Text.StringBuilder"] = null, ["System.Text.Encoding"] = null, ["System.Runtime.CompilerServices.DefaultInterpolatedStringHandler"] = null,
        ["System.Buffers.Binary.BinaryPrimitives"] = null, ["System.Security.Cryptography.SHA256"] = null,
        // Records and ranges.
        ["System.Runtime.CompilerServices.RuntimeHelpers"] = ["GetSubArray", "EnsureSufficientExecutionStack"],
        // Threading: the controller's lock and barriers, the polling loop's clock.
        ["System.Threading.Lock"] = null, ["System.Threading.Lock+Scope"] = null, ["System.Threading.Interlocked"] = null,
        ["System.Diagnostics.Stopwatch"] = null, ["System.TimeSpan"] = null,
        // The generated register block's storage: volatile loads and stores of its own fields (the
        // register-block concurrency contract; its updates use Interlocked.CompareExchange, above).
        ["System.Threading.Volatile"] = ["Read", "Write"],
        // The namespace's backing store, by its interface only: byte spans in and out, no address
        // (ShadowIo.Devices.Storage references no ShadowIo assembly, so it cannot reach guest memory).
        ["ShadowIo.Devices.Storage.IBlockStorage"] = null,
        // ShadowIo: guest memory only through GuestMemory's bounds-checked calls and the ShadowRegions it hands out.
        ["ShadowIo.GuestMemory"] = ["TryRead", "TryWrite", "TryGetShadowRegion", "Contains"],
        ["ShadowIo.ShadowRegion"] = ["ReadUInt32", "WriteUInt32", "get_Length",
            "get_Address"], // compared only, to notice that a guest page moved in host memory
        ["ShadowIo.DoorbellTable"] = null, ["ShadowIo.DoorbellEntry"] = null, ["ShadowIo.DoorbellKind"] = null,
        ["ShadowIo.IMmioDevice"] = null, ["ShadowIo.IRegisterBlock"] = null,
        // Generated register code: atomic loads, stores and compare-exchange updates of the block's
        // own storage fields, passed by ref; it reaches nothing else.
        ["ShadowIo.RegisterStorage"] = ["Load", "Store", "Replace", "Update"],
        // The contract the runtime's device thread (DeviceRunner) drives: calls in, no memory out.
        ["ShadowIo.Hosting.IDoorbellDevice"] = null,
    };

    /// <summary>
    /// The controller's own doorbell page is the one controller type that maps memory (host memory
    /// it owns, never the guest's) and makes a ShadowRegion from the pointer.
    /// </summary>
    private static readonly Dictionary<string, string[]?> AllowedForPrivateDoorbellPage = new(StringComparer.Ordinal)
    {
        ["ShadowIo.MemoryMapping"] = ["CreateAnonymous", "get_Pointer", "get_Length", "Dispose"],
        ["ShadowIo.ShadowRegion"] = [".ctor"],
        ["System.Byte*"] = null,
    };

    /// <summary>A delegate's constructor takes the target method's address as a native int.</summary>
    private static readonly Dictionary<string, string[]?> AllowedForDelegateTypes = new(StringComparer.Ordinal)
    {
        ["System.IntPtr"] = null,
    };

    /// <summary>The compiler's inline-array helpers behind collection expressions (C# 12 InlineArray spans).</summary>
    private static readonly Dictionary<string, string[]?> AllowedForCompilerHelpers = new(StringComparer.Ordinal)
    {
        ["System.Runtime.CompilerServices.Unsafe"] = ["As", "AsRef", "Add"],
        ["System.Runtime.InteropServices.MemoryMarshal"] = ["CreateReadOnlySpan"],
    };

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>
    /// Opcodes that make or use native pointers: named so that they fail unless allowed. Not
    /// conv.ovf.i(.un): C# emits them to index an array with a long (the memory namespace's chunks).
    /// </summary>
    private static readonly Dictionary<short, string> NativePointerOpCodes = new[]
    {
        OpCodes.Conv_I, OpCodes.Conv_U, OpCodes.Conv_Ovf_U, OpCodes.Conv_Ovf_U_Un,
        OpCodes.Ldind_I, OpCodes.Stind_I, OpCodes.Ldelem_I, OpCodes.Stelem_I, OpCodes.Localloc, OpCodes.Cpblk, OpCodes.Initblk,
        OpCodes.Calli, OpCodes.Mkrefany, OpCodes.Refanyval, OpCodes.Arglist,
    }.ToDictionary(o => o.Value, o => $"IL {o.Name} (native pointer)");

    [Fact]
    public void Controller_code_names_only_allow_listed_types_and_members()
    {
        var walk = ControllerWalk.Run();
        var offenders = walk.Uses
            .Where(u => !IsAllowed(u.Use, ExtraAllowances(u.Type), walk.ControllerTypes))
            .Select(u => $"{u.Type}.{u.Method}: {u.Use}")
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(walk.MethodBodies > 200, $"only {walk.MethodBodies} method bodies scanned");
        Assert.True(offenders.Count == 0, "controller code names what is not allowed (add it to Allowed only with a reason):\n" + string.Join('\n', offenders));
    }

    [Fact]
    public void No_controller_type_references_the_test_harness_or_the_fuzzers_guest_memory()
    {
        var walk = ControllerWalk.Run();
        var offenders = walk.Uses
            .Where(u => u.Use.Assembly == "ShadowIo.Testing" || u.Use.Assembly == FuzzerAssembly)
            .Select(u => $"{u.Type}.{u.Method}: {u.Use}")
            .Distinct()
            .ToList();
        Assert.True(offenders.Count == 0, "controller code references test-only code:\n" + string.Join('\n', offenders));
    }

    /// <summary>
    /// The walk exempts exactly the fuzzer: every type of the controller's assembly is walked
    /// (compiler-emitted attributes and helpers aside), and the fuzzer's guest RAM is not among them.
    /// </summary>
    [Fact]
    public void The_walk_covers_the_whole_controller_assembly_and_the_fuzzer_lives_outside_it()
    {
        var walk = ControllerWalk.Run();
        var unwalked = walk.AllTypes.Where(t => !walk.WalkedTypes.Contains(t) && !IsCompilerEmitted(t)).Order(StringComparer.Ordinal).ToList();
        Assert.True(unwalked.Count == 0, "types of the controller's assembly the walk skips:\n" + string.Join('\n', unwalked));
        Assert.Contains(ControllerNamespace + ".NvmeController", walk.WalkedTypes);
        Assert.Contains(ControllerNamespace + ".PrivateDoorbellPage", walk.WalkedTypes);
        Assert.NotEqual(OwnAssembly, FuzzerAssembly);
        Assert.DoesNotContain(typeof(GuestRam).FullName!, walk.AllTypes);
    }

    /// <summary>
    /// The device library references the runtime, the storage library and the shared framework,
    /// nothing else (no harness, no fuzzer, no CLI or transport library); the storage library
    /// references only the framework, so the backing store has no way to guest memory.
    /// </summary>
    [Fact]
    public void The_controller_assembly_references_only_the_runtime_storage_and_the_framework()
    {
        var controller = NonFrameworkReferences(typeof(NvmeController).Assembly);
        Assert.Contains("ShadowIo", controller);
        Assert.True(controller.Order().SequenceEqual(["ShadowIo", "ShadowIo.Devices.Storage"]),
            "the device library references: " + string.Join(", ", controller));
        var storage = NonFrameworkReferences(typeof(ShadowIo.Devices.Storage.IBlockStorage).Assembly);
        Assert.True(storage.Count == 0, "the storage library references: " + string.Join(", ", storage));
    }

    private static List<string> NonFrameworkReferences(System.Reflection.Assembly assembly)
    {
        using var stream = File.OpenRead(assembly.Location);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        string framework = System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory();
        return md.AssemblyReferences.Select(r => md.GetString(md.GetAssemblyReference(r).Name))
            .Where(name => !File.Exists(Path.Combine(framework, name + ".dll"))).ToList();
    }

    /// <summary>What the compiler adds to an assembly by itself: the module type, embedded attributes, inline-array and data helpers.</summary>
    private static bool IsCompilerEmitted(string type) =>
        type.StartsWith(".<", StringComparison.Ordinal)
        || type.StartsWith("Microsoft.CodeAnalysis.", StringComparison.Ordinal)
        || type.StartsWith("System.Runtime.CompilerServices.", StringComparison.Ordinal);

    private static Dictionary<string, string[]?>? ExtraAllowances(string type) => type switch
    {
        "PrivateDoorbellPage" => AllowedForPrivateDoorbellPage,
        "<PrivateImplementationDetails>" => AllowedForCompilerHelpers,
        "CommandFetchedObserver" => AllowedForDelegateTypes,
        _ => null,
    };

    private static string OwnAssembly => typeof(NvmeController).Assembly.GetName().Name!;

    private static bool IsAllowed(Use use, Dictionary<string, string[]?>? extra, HashSet<string> controllerTypes)
    {
        if (use.Assembly == OwnAssembly && controllerTypes.Contains(use.Type)) return true;
        var lists = extra is null ? [Allowed] : new[] { Allowed, extra };
        // A member allowed by name is taken as it is, signature included (ShadowRegion.Address's nint).
        if (use.SignatureOf?.Split("::") is [string ofType, string ofMember]
            && lists.Any(l => l.TryGetValue(ofType, out var named) && named is not null && named.Contains(ofMember)))
            return true;
        foreach (var list in lists)
        {
            if (!list.TryGetValue(use.Type, out var members)) continue;
            if (use.Member is null || members is null || members.Contains(use.Member)) return true;
        }
        return false;
    }

    /// <summary>
    /// One thing named: a type ("Namespace.Type", nested "Outer+Inner", generic "List`1"), or a
    /// member of one; <paramref name="SignatureOf"/> is the member ("Type::Member") whose signature named it.
    /// </summary>
    private readonly record struct Use(string Assembly, string Type, string? Member = null, string? SignatureOf = null)
    {
        public override string ToString() => Member is null ? $"[{Assembly}]{Type}" : $"[{Assembly}]{Type}::{Member}";
    }

    private sealed class ControllerWalk
    {
        private readonly MetadataReader _md;
        private readonly TypeUses _types;

        private ControllerWalk(MetadataReader md)
        {
            _md = md;
            _types = new TypeUses(OwnAssembly);
        }

        public List<(string Type, string Method, Use Use)> Uses { get; } = [];
        public HashSet<string> ControllerTypes { get; } = new(StringComparer.Ordinal);
        public HashSet<string> AllTypes { get; } = new(StringComparer.Ordinal);
        public HashSet<string> WalkedTypes { get; } = new(StringComparer.Ordinal);
        public int MethodBodies { get; private set; }

        public static ControllerWalk Run()
        {
            using var stream = File.OpenRead(typeof(NvmeController).Assembly.Location);
            using var pe = new PEReader(stream);
            var walk = new ControllerWalk(pe.GetMetadataReader());
            walk.Walk(pe);
            return walk;
        }

        private void Walk(PEReader pe)
        {
            var controller = new List<TypeDefinition>();
            foreach (var handle in _md.TypeDefinitions)
            {
                var type = _md.GetTypeDefinition(handle);
                var outer = type;
                while (outer.IsNested) outer = _md.GetTypeDefinition(outer.GetDeclaringType());
                string outerName = _md.GetString(outer.Name);
                string outerNamespace = _md.GetString(outer.Namespace);
                AllTypes.Add(outerNamespace + "." + outerName);
                // The compiler's helpers for constant data go with the code that asked for them.
                bool isController = outerNamespace == ControllerNamespace || outerName == "<PrivateImplementationDetails>";
                if (!isController) continue;
                WalkedTypes.Add(outerNamespace + "." + outerName);
                controller.Add(type);
                ControllerTypes.Add(TypeUses.FullName(_md, handle));
            }
            foreach (var type in controller) WalkType(pe, type);
        }

        private void WalkType(PEReader pe, TypeDefinition type)
        {
            string typeName = _md.GetString(type.Name);
            void Add(string method, IEnumerable<Use> uses)
            {
                foreach (var use in uses) Uses.Add((typeName, method, use));
            }
            if (!type.BaseType.IsNil) Add("(base)", _types.Of(_md, type.BaseType));
            foreach (var i in type.GetInterfaceImplementations()) Add("(interface)", _types.Of(_md, _md.GetInterfaceImplementation(i).Interface));
            foreach (var f in type.GetFields())
            {
                var field = _md.GetFieldDefinition(f);
                Add(_md.GetString(field.Name), field.DecodeSignature(_types, null));
            }
            foreach (var m in type.GetMethods())
            {
                var method = _md.GetMethodDefinition(m);
                string name = _md.GetString(method.Name);
                var signature = method.DecodeSignature(_types, null);
                Add(name, signature.ReturnType.Concat(signature.ParameterTypes.SelectMany(p => p)));
                if ((method.Attributes & MethodAttributes.PinvokeImpl) != 0) Add(name, [new Use("", "P/Invoke")]);
                if (method.RelativeVirtualAddress == 0) continue;
                MethodBodies++;
                var body = pe.GetMethodBody(method.RelativeVirtualAddress);
                if (!body.LocalSignature.IsNil)
                    Add(name, _md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(_types, null).SelectMany(l => l));
                Add(name, InIl(body.GetILBytes() ?? []));
            }
        }

        /// <summary>
        /// Every type, method and field token in the IL, and the native-pointer opcodes. The one
        /// native int controller code may hold, <c>ShadowRegion.Address</c>, must go straight into
        /// a comparison with another (a pointer made from it needs no opcode of its own).
        /// </summary>
        private IEnumerable<Use> InIl(byte[] il)
        {
            int addresses = 0; // ShadowRegion.Address values on the stack, waiting for their comparison
            for (int i = 0; i < il.Length;)
            {
                short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
                var op = OpCodesByValue[value];
                i += op.Size;
                if (NativePointerOpCodes.TryGetValue(value, out string? pointerOp)) yield return new Use("", pointerOp);
                var uses = op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok or OperandType.InlineSig
                    ? OfToken(MetadataTokens.EntityHandle(BitConverter.ToInt32(il, i))).ToList()
                    : [];
                bool isAddress = uses.Contains(new Use("ShadowIo", "ShadowIo.ShadowRegion", "get_Address"));
                if (addresses > 0 && !isAddress)
                {
                    if (op == OpCodes.Ceq || op == OpCodes.Beq || op == OpCodes.Beq_S || op == OpCodes.Bne_Un || op == OpCodes.Bne_Un_S) addresses = Math.Max(0, addresses - 2);
                    else if (!LoadsARegion(op)) (addresses, uses) = (0, [.. uses, new Use("", "ShadowRegion.Address used other than compared")]);
                }
                if (isAddress) addresses++;
                foreach (var use in uses) yield return use;
                i += op.OperandType switch
                {
                    OperandType.InlineNone => 0,
                    OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                    OperandType.InlineVar => 2,
                    OperandType.InlineI8 or OperandType.InlineR => 8,
                    OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                    _ => 4,
                };
            }
        }

        /// <summary>What loads the second region between two ShadowRegion.Address calls.</summary>
        private static bool LoadsARegion(OpCode op) =>
            op == OpCodes.Ldarg_0 || op == OpCodes.Ldarg_1 || op == OpCodes.Ldarg_2 || op == OpCodes.Ldarg_3 || op == OpCodes.Ldarg_S || op == OpCodes.Ldarg
            || op == OpCodes.Ldarga_S || op == OpCodes.Ldarga || op == OpCodes.Ldloca_S || op == OpCodes.Ldloca || op == OpCodes.Ldflda || op == OpCodes.Ldsflda;

        private IEnumerable<Use> OfToken(EntityHandle handle)
        {
            switch (handle.Kind)
            {
                case HandleKind.TypeReference or HandleKind.TypeDefinition or HandleKind.TypeSpecification:
                    return _types.Of(_md, handle);
                case HandleKind.MethodSpecification:
                {
                    var spec = _md.GetMethodSpecification((MethodSpecificationHandle)handle);
                    return OfToken(spec.Method).Concat(spec.DecodeSignature(_types, null).SelectMany(a => a));
                }
                case HandleKind.MethodDefinition:
                {
                    var method = _md.GetMethodDefinition((MethodDefinitionHandle)handle);
                    return [new Use(OwnAssembly, TypeUses.FullName(_md, method.GetDeclaringType()), _md.GetString(method.Name))];
                }
                case HandleKind.FieldDefinition:
                {
                    var field = _md.GetFieldDefinition((FieldDefinitionHandle)handle);
                    return [new Use(OwnAssembly, TypeUses.FullName(_md, field.GetDeclaringType()), _md.GetString(field.Name))];
                }
                case HandleKind.MemberReference:
                {
                    var member = _md.GetMemberReference((MemberReferenceHandle)handle);
                    var parent = _types.Of(_md, member.Parent);
                    string name = _md.GetString(member.Name);
                    var uses = new List<Use>(parent.Skip(1));
                    if (parent.Length > 0) uses.Add(parent[0] with { Member = name });
                    string of = parent.Length > 0 ? $"{parent[0].Type}::{name}" : name;
                    var signature = member.GetKind() == MemberReferenceKind.Method
                        ? member.DecodeMethodSignature(_types, null) is var m ? m.ReturnType.Concat(m.ParameterTypes.SelectMany(p => p)) : []
                        : member.DecodeFieldSignature(_types, null);
                    uses.AddRange(signature.Select(u => u with { SignatureOf = of }));
                    return uses;
                }
                case HandleKind.StandaloneSignature: // calli's signature
                {
                    var signature = _md.GetStandaloneSignature((StandaloneSignatureHandle)handle).DecodeMethodSignature(_types, null);
                    return signature.ReturnType.Concat(signature.ParameterTypes.SelectMany(p => p));
                }
                default:
                    return [new Use("", $"token {handle.Kind}")];
            }
        }
    }

    /// <summary>
    /// A signature's types as uses: the type itself first, then its parts (generic arguments,
    /// element types). A pointer is "T*", a function pointer "method pointer", a pinned local
    /// "pinned T"; generic parameters name nothing.
    /// </summary>
    private sealed class TypeUses(string ownAssembly) : ISignatureTypeProvider<ImmutableArray<Use>, object?>
    {
        public static string FullName(MetadataReader md, TypeDefinitionHandle handle)
        {
            var type = md.GetTypeDefinition(handle);
            return type.IsNested ? FullName(md, type.GetDeclaringType()) + "+" + md.GetString(type.Name) : Join(md.GetString(type.Namespace), md.GetString(type.Name));
        }

        public ImmutableArray<Use> Of(MetadataReader md, EntityHandle handle) => handle.Kind switch
        {
            HandleKind.TypeDefinition => GetTypeFromDefinition(md, (TypeDefinitionHandle)handle, 0),
            HandleKind.TypeReference => GetTypeFromReference(md, (TypeReferenceHandle)handle, 0),
            HandleKind.TypeSpecification => GetTypeFromSpecification(md, null, (TypeSpecificationHandle)handle, 0),
            _ => [new Use("", $"parent {handle.Kind}")],
        };

        public ImmutableArray<Use> GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) =>
            [new Use(ownAssembly, FullName(reader, handle))];

        public ImmutableArray<Use> GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            var (assembly, name) = Reference(reader, handle);
            return [new Use(assembly, name)];
        }

        public ImmutableArray<Use> GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public ImmutableArray<Use> GetPrimitiveType(PrimitiveTypeCode typeCode) => [new Use("System.Runtime", "System." + typeCode)];
        public ImmutableArray<Use> GetPointerType(ImmutableArray<Use> elementType) => Wrap(elementType, t => t + "*");
        public ImmutableArray<Use> GetPinnedType(ImmutableArray<Use> elementType) => Wrap(elementType, t => "pinned " + t);
        public ImmutableArray<Use> GetFunctionPointerType(MethodSignature<ImmutableArray<Use>> signature) => [new Use("", "method pointer")];
        public ImmutableArray<Use> GetByReferenceType(ImmutableArray<Use> elementType) => elementType;
        public ImmutableArray<Use> GetSZArrayType(ImmutableArray<Use> elementType) => elementType;
        public ImmutableArray<Use> GetArrayType(ImmutableArray<Use> elementType, ArrayShape shape) => elementType;
        public ImmutableArray<Use> GetModifiedType(ImmutableArray<Use> modifier, ImmutableArray<Use> unmodifiedType, bool isRequired) => unmodifiedType;
        public ImmutableArray<Use> GetGenericInstantiation(ImmutableArray<Use> genericType, ImmutableArray<ImmutableArray<Use>> typeArguments) =>
            [.. genericType, .. typeArguments.SelectMany(a => a)];
        public ImmutableArray<Use> GetGenericMethodParameter(object? genericContext, int index) => [];
        public ImmutableArray<Use> GetGenericTypeParameter(object? genericContext, int index) => [];

        private static ImmutableArray<Use> Wrap(ImmutableArray<Use> element, Func<string, string> name) =>
            element.IsEmpty ? [new Use("", name("T"))] : [element[0] with { Type = name(element[0].Type) }, .. element];

        private static (string Assembly, string Name) Reference(MetadataReader md, TypeReferenceHandle handle)
        {
            var type = md.GetTypeReference(handle);
            string name = md.GetString(type.Name);
            if (type.ResolutionScope.Kind == HandleKind.TypeReference)
            {
                var (assembly, outer) = Reference(md, (TypeReferenceHandle)type.ResolutionScope);
                return (assembly, outer + "+" + name);
            }
            string scope = type.ResolutionScope.Kind == HandleKind.AssemblyReference
                ? md.GetString(md.GetAssemblyReference((AssemblyReferenceHandle)type.ResolutionScope).Name)
                : "";
            return (scope, Join(md.GetString(type.Namespace), name));
        }

        private static string Join(string ns, string name) => ns.Length == 0 ? name : ns + "." + name;
    }
}
