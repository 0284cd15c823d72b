using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ShadowIo.Generator.Checks;
using ShadowIo.Generator.Helpers;
using ShadowIo.Generator.Model;

namespace ShadowIo.Generator;

public sealed partial class RegisterBlockGenerator
{
    /// <summary>
    /// Builds the <see cref="InvalidBlockModel"/> of a block with layout errors: whatever the map's
    /// state, the user's declarations must compile, so that the only errors a broken map produces
    /// are the analyzer's SHIO diagnostics. <c>csc</c> runs analyzers only when the declarations
    /// compile: one partial property left without its implementing part (CS9248), or a hook
    /// implementation without its definition (CS0759), and a command-line build shows that error
    /// instead of ours.
    /// </summary>
    /// <remarks>
    /// Only what is well defined whatever else is wrong is generated: a storage field and accessors
    /// for each partial register property (with the type it was declared with, even a wrong one),
    /// field accessors for fields that fit that type without overlapping, the declared offsets,
    /// and hook definitions matching the user's implementations. Every generated name is checked
    /// against the user's members first: a collision is a SHIO014 of the analyzer's, not a CS0102
    /// that would hide it.
    /// </remarks>
    internal static class InvalidBlock
    {
        /// <summary>The declared type as the implementing part must repeat it, nullable annotations included.</summary>
        private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat
            .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

        /// <summary>The nested types of a valid block, generated empty for an invalid one.</summary>
        private static readonly string[] s_nestedTypes = ["DoorbellIndex", "ShadowLayout", "DoorbellReader"];

        public static InvalidBlockModel? Create(
            INamedTypeSymbol type, string blockName, ulong? blockSize, List<RegisterDeclaration> registers,
            List<RegisterSetDeclaration> sets, CancellationToken cancellationToken)
        {
            // Without 'partial' on the class (SHIO001) another part would be an error of its own (CS0260).
            if (!Declarations.IsPartialAndNotStatic(type, cancellationToken)) return null;

            HashSet<string> taken = TakenNames(type);
            taken.Add(type.Name);

            var hooks = new List<HookModel>();
            List<ImplementedRegisterModel> implemented = ImplementRegisters(type, type, registers, taken, hooks, "", cancellationToken);

            // Register sets: each partial element class gets its properties' parts (storage of its own,
            // just so they compile); the per-element hooks are the block's, with the index first.
            var implementedSets = new List<ImplementedSetModel>();
            foreach (INamedTypeSymbol nested in type.GetTypeMembers())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!nested.GetAttributes().Any(static a => AttributeReader.IsAttribute(a, KnownAttributes.RegisterSet))) continue;
                if (Declarations.PartKeyword(nested) is not { } keyword || !nested.TypeParameters.IsEmpty || nested.IsStatic
                    || !Declarations.IsPartial(nested, cancellationToken))
                {
                    continue;
                }

                List<RegisterDeclaration> setRegisters = sets.FirstOrDefault(set => set.TypeName == nested.Name)?.Registers ?? [];
                HashSet<string> elementTaken = TakenNames(nested);
                elementTaken.Add(nested.Name);
                implementedSets.Add(new ImplementedSetModel
                {
                    TypeKeyword = keyword,
                    TypeName = nested.Name,
                    Registers = ImplementRegisters(nested, type, setRegisters, elementTaken, hooks, "int index, ", cancellationToken).ToEquatableArray(),
                });
            }

            AddHook(hooks, Hook(type, "OnUndefinedRead", "ulong offset, int size", "Called for a read outside every register and doorbell (the register map has errors: no dispatch is generated until it is fixed).", cancellationToken));
            AddHook(hooks, Hook(type, "OnUndefinedWrite", "ulong offset, int size, ulong value", "Called for a write outside every register and doorbell (the register map has errors: no dispatch is generated until it is fixed).", cancellationToken));
            AddHook(hooks, Hook(type, "OnDoorbellWritten", "int row, ulong value", "Called when a write to a doorbell reaches dispatch (the register map has errors: no dispatch is generated until it is fixed).", cancellationToken));

            return new InvalidBlockModel
            {
                Namespace = type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : "",
                ContainingTypes = Declarations.ContainingTypeDeclarations(type, cancellationToken),
                TypeName = Declarations.NameWithTypeParameters(type),
                HintName = Declarations.HintName(type),
                BlockName = blockName,
                Size = blockSize is { } size && taken.Add("BlockSize") ? size : null,
                EmptyNestedTypes = s_nestedTypes.Where(taken.Add).ToEquatableArray(),
                Registers = implemented.ToEquatableArray(),
                RegisterSets = implementedSets.ToEquatableArray(),
                Hooks = hooks.ToEquatableArray(),
            };
        }

        /// <summary>The names <paramref name="type"/>'s own members (not ours) already use.</summary>
        private static HashSet<string> TakenNames(INamedTypeSymbol type)
        {
            var taken = new HashSet<string>();
            foreach (ISymbol member in type.GetMembers())
            {
                if (!member.IsImplicitlyDeclared && !Declarations.IsGeneratedByUs(member)) taken.Add(member.Name);
            }

            foreach (ITypeParameterSymbol parameter in type.TypeParameters) taken.Add(parameter.Name);
            return taken;
        }

        /// <summary>
        /// The implementing parts of <paramref name="owner"/>'s partial [Register] properties, and the
        /// definitions of their On{Register}Written hooks on <paramref name="block"/> (parameters
        /// <paramref name="hookPrefix"/> + previous, value).
        /// </summary>
        private static List<ImplementedRegisterModel> ImplementRegisters(
            INamedTypeSymbol owner, INamedTypeSymbol block, List<RegisterDeclaration> registers, HashSet<string> taken,
            List<HookModel> hooks, string hookPrefix, CancellationToken cancellationToken)
        {
            var declared = new Dictionary<string, RegisterDeclaration>();
            foreach (RegisterDeclaration register in registers)
            {
                if (!declared.ContainsKey(register.Name)) declared.Add(register.Name, register);
            }

            var implemented = new List<ImplementedRegisterModel>();
            foreach (ISymbol member in owner.GetMembers())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (member is not IPropertySymbol property || property.PartialDefinitionPart is not null) continue;
                if (!property.GetAttributes().Any(static a => AttributeReader.IsAttribute(a, KnownAttributes.Register))) continue;
                if (property.Type.TypeKind == TypeKind.Error) continue;

                string typeName = property.Type.ToDisplayString(s_typeFormat);
                if (Hook(block, $"On{property.Name}Written", $"{hookPrefix}{typeName} previous, {typeName} value",
                        $"After each guest write that reaches {property.Name} (the register map has errors: no dispatch is generated until it is fixed).",
                        cancellationToken) is { } hook)
                {
                    hooks.Add(hook);
                }

                var syntax = property.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as PropertyDeclarationSyntax;
                if (!Declarations.IsPartialPropertyDeclaration(property, syntax)) continue;
                declared.TryGetValue(property.Name, out RegisterDeclaration? declaration);
                int width = WidthOf(property.Type.SpecialType);
                string storage = Free(taken, Identifiers.ToStorageField(property.Name));
                implemented.Add(new ImplementedRegisterModel
                {
                    Name = property.Name,
                    Modifiers = Declarations.ModifiersWithoutPartial(syntax!.Modifiers),
                    GetterModifiers = Declarations.AccessorModifiers(syntax, SyntaxKind.GetAccessorDeclaration),
                    SetterModifiers = Declarations.AccessorModifiers(syntax, SyntaxKind.SetAccessorDeclaration),
                    TypeName = typeName,
                    StorageName = storage,
                    Offset = declaration is not null && taken.Add(property.Name + "Offset") ? declaration.Offset : null,
                    Width = width,
                    Fields = width > 0 && declaration is not null && taken.Add(property.Name + "Fields")
                        ? SoundFields(property.Name, width, declaration.Fields, taken).ToEquatableArray()
                        : EquatableArray<FieldModel>.Empty,
                });
            }

            return implemented;
        }

        /// <summary>
        /// Fields whose accessors compile on a register of <paramref name="width"/> bytes: a usable,
        /// unused name, bits inside the register, no overlap with an earlier one, an enum type if any.
        /// </summary>
        private static IEnumerable<FieldModel> SoundFields(string register, int width, List<FieldDeclaration> fields, HashSet<string> taken)
        {
            var placed = new List<FieldDeclaration>();
            var names = new HashSet<string>();
            foreach (FieldDeclaration field in fields)
            {
                if (field.Name is null || field.Width <= 0 || field.Bit < 0 || (long)field.Bit + field.Width > width * 8) continue;
                if (field.EnumType is not null && field.EnumType.TypeKind != TypeKind.Enum) continue;
                if (placed.Any(other => field.Bit < other.Bit + other.Width && other.Bit < field.Bit + field.Width)) continue;
                if (!names.Add(field.Name) || !taken.Add(register + field.Name)) continue;
                placed.Add(field);
                yield return new FieldModel
                {
                    DeclaredName = field.DeclaredName,
                    Name = field.Name,
                    Bit = field.Bit,
                    Width = field.Width,
                    Access = field.Access is >= 0 and <= (int)FieldAccess.ReadToClear ? (FieldAccess)field.Access : FieldAccess.ReadWrite,
                    EnumType = field.EnumType?.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                };
            }
        }

        /// <summary>
        /// The definition of hook <paramref name="name"/>: with the parameters of the user's
        /// implementation when there is one (its types may not be the ones a valid map would
        /// generate), none when the user defined it already or declared an ordinary method of that name.
        /// </summary>
        private static HookModel? Hook(INamedTypeSymbol type, string name, string standardParameters, string summary, CancellationToken cancellationToken)
        {
            string parameters = standardParameters;
            foreach (ISymbol member in type.GetMembers(name))
            {
                if (member is not IMethodSymbol method) return null;
                var syntax = method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as MethodDeclarationSyntax;
                if (syntax is null || Declarations.IsGeneratedByUs(method)) continue;
                bool isPartial = syntax.Modifiers.Any(SyntaxKind.PartialKeyword);
                bool isImplementation = syntax.Body is not null || syntax.ExpressionBody is not null;
                if (!isPartial || !isImplementation || method.PartialDefinitionPart is not null) return null;
                bool plain = method.ReturnsVoid
                    && !method.IsGenericMethod
                    && !syntax.Modifiers.Any(static m => SyntaxFacts.IsAccessibilityModifier(m.Kind()))
                    && method.Parameters.All(static p => p.Type.TypeKind != TypeKind.Error && !p.IsParams && !p.HasExplicitDefaultValue);
                if (!plain) return null;
                parameters = string.Join(", ", method.Parameters.Select(static p => RefKind(p.RefKind) + p.Type.ToDisplayString(s_typeFormat) + " " + Identifiers.Escape(p.Name)));
            }

            return new HookModel { Name = name, Parameters = parameters, Summary = summary };
        }

        private static void AddHook(List<HookModel> hooks, HookModel? hook)
        {
            if (hook is not null) hooks.Add(hook);
        }

        private static string RefKind(Microsoft.CodeAnalysis.RefKind kind) => kind switch
        {
            Microsoft.CodeAnalysis.RefKind.Ref => "ref ",
            Microsoft.CodeAnalysis.RefKind.Out => "out ",
            Microsoft.CodeAnalysis.RefKind.In => "in ",
            _ => "",
        };

        /// <summary>Bytes of the unsigned types a register property is declared with; 0 for any other type.</summary>
        private static int WidthOf(SpecialType type) => type switch
        {
            SpecialType.System_Byte => 1,
            SpecialType.System_UInt16 => 2,
            SpecialType.System_UInt32 => 4,
            SpecialType.System_UInt64 => 8,
            _ => 0,
        };

        /// <summary><paramref name="name"/>, or the first of name2, name3, … that no member has, now taken.</summary>
        private static string Free(HashSet<string> taken, string name)
        {
            string candidate = name;
            for (int i = 2; !taken.Add(candidate); i++) candidate = name + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return candidate;
        }
    }
}
