using System.Collections.Generic;
using System.Collections.Immutable;
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
    /// <summary>The outcome of parsing one block: a model when valid, and every diagnostic found.</summary>
    internal readonly record struct ParseResult(BlockModel? Model, ImmutableArray<Diagnostic> Diagnostics);

    /// <summary>
    /// Reads a [RegisterBlock] class's attributes (symbols → <see cref="BlockModel"/>) and runs the
    /// layout and field checks. Shared by the generator, which keeps only the model, and by
    /// <see cref="RegisterBlockAnalyzer"/>, which reports the diagnostics. Never throws on user input:
    /// an attribute the compiler could not bind makes the block invalid without a diagnostic of
    /// ours (the compiler already reports it).
    /// </summary>
    internal static class Parser
    {
        public static ParseResult Parse(INamedTypeSymbol type, CancellationToken cancellationToken)
        {
            var diagnostics = new List<Diagnostic>();
            AttributeData? blockAttribute = type.GetAttributes().FirstOrDefault(static a => IsAttribute(a, KnownAttributes.RegisterBlock));
            if (blockAttribute is null
                || !TryGetArgument(blockAttribute, 0, out string? blockName)
                || !TryGetArgument(blockAttribute, 1, out ulong blockSize))
            {
                return new ParseResult(null, ImmutableArray<Diagnostic>.Empty);
            }

            bool bindable = true;
            int shadowSize = GetNamed(blockAttribute, "ShadowSize", 4096, ref bindable, out _);
            Location blockLocation = LocationOf(blockAttribute, type, cancellationToken);

            if (!IsPartialAndNotStatic(type, cancellationToken))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.BlockNotPartial, blockLocation, type.Name));
            }

            List<RegisterDeclaration> registers = ReadRegisters(type, diagnostics, ref bindable, cancellationToken);
            List<DoorbellDeclaration> doorbells = ReadDoorbells(type, ref bindable, cancellationToken);

            LayoutChecks.CheckRegisters(blockSize, registers, diagnostics);
            foreach (RegisterDeclaration register in registers)
            {
                if (Widths.IsValidAccessWidth(register.Width)) FieldChecks.Check(register, diagnostics);
            }

            LayoutChecks.CheckDoorbells(blockSize, doorbells, diagnostics);
            CheckDuplicateDoorbellNames(type.Name, doorbells, diagnostics);
            int shadowLayoutSize = LayoutChecks.CheckShadowLayout(doorbells, shadowSize, diagnostics, out ulong shadowBase);
            LayoutChecks.CheckOverlaps(registers, doorbells, diagnostics);

            BlockModel? model = bindable && diagnostics.Count == 0
                ? CreateModel(type, blockName ?? "", blockSize, shadowLayoutSize, shadowBase, registers, doorbells, cancellationToken)
                : null;
            return new ParseResult(model, diagnostics.ToImmutableArray());
        }

        private static List<RegisterDeclaration> ReadRegisters(INamedTypeSymbol type, List<Diagnostic> diagnostics, ref bool bindable, CancellationToken cancellationToken)
        {
            var registers = new List<RegisterDeclaration>();
            foreach (ISymbol member in type.GetMembers())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (member is not IPropertySymbol property) continue;

                // Skip the implementing part once generated; its definition part carries the attributes.
                if (property.PartialDefinitionPart is not null) continue;
                AttributeData? attribute = property.GetAttributes().FirstOrDefault(static a => IsAttribute(a, KnownAttributes.Register));
                if (attribute is null)
                {
                    // A [Field] without [Register] would silently do nothing.
                    foreach (AttributeData stray in property.GetAttributes().Where(static a => IsAttribute(a, KnownAttributes.Field)))
                    {
                        diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.AttributeWithoutEffect,
                            LocationOf(stray, property, cancellationToken), "Field", property.Name, "the property has no [Register]"));
                    }

                    continue;
                }
                if (!TryGetArgument(attribute, 0, out ulong offset) || !TryGetArgument(attribute, 1, out int width))
                {
                    bindable = false;
                    continue;
                }

                var fields = new List<FieldDeclaration>();
                foreach (AttributeData fieldAttribute in property.GetAttributes())
                {
                    if (!IsAttribute(fieldAttribute, KnownAttributes.Field)) continue;
                    FieldDeclaration? field = ReadField(fieldAttribute, property, ref bindable, cancellationToken);
                    if (field is not null) fields.Add(field);
                }

                var syntax = property.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as PropertyDeclarationSyntax;
                registers.Add(new RegisterDeclaration
                {
                    Name = property.Name,
                    Location = LocationOf(attribute, property, cancellationToken),
                    Offset = offset,
                    Width = width,
                    Access = GetNamed(attribute, "Access", 0, ref bindable, out _),
                    Reset = GetNamed(attribute, "Reset", 0UL, ref bindable, out _),
                    PropertyType = property.Type.SpecialType,
                    PropertyTypeName = property.Type.ToDisplayString(),
                    IsPartialDeclaration = IsPartialPropertyDeclaration(property, syntax),
                    Modifiers = syntax is null ? "public" : ModifiersWithoutPartial(syntax.Modifiers),
                    GetterModifiers = AccessorModifiers(syntax, SyntaxKind.GetAccessorDeclaration),
                    SetterModifiers = AccessorModifiers(syntax, SyntaxKind.SetAccessorDeclaration),
                    Fields = fields,
                });
            }

            return registers;
        }

        private static FieldDeclaration? ReadField(AttributeData attribute, IPropertySymbol property, ref bool bindable, CancellationToken cancellationToken)
        {
            if (!TryGetArgument(attribute, 0, out string? name)
                || !TryGetArgument(attribute, 1, out int bit)
                || !TryGetArgument(attribute, 2, out int width))
            {
                bindable = false;
                return null;
            }

            ulong reset = GetNamed(attribute, "Reset", 0UL, ref bindable, out bool hasReset);
            ITypeSymbol? enumType = GetNamed<ITypeSymbol?>(attribute, "EnumType", null, ref bindable, out _);
            return new FieldDeclaration
            {
                DeclaredName = name ?? "",
                Name = Identifiers.ToPascalCase(name),
                Location = LocationOf(attribute, property, cancellationToken),
                Bit = bit,
                Width = width,
                Access = GetNamed(attribute, "Access", 0, ref bindable, out _),
                Reset = reset,
                HasReset = hasReset,
                EnumType = enumType,
            };
        }

        private static List<DoorbellDeclaration> ReadDoorbells(INamedTypeSymbol type, ref bool bindable, CancellationToken cancellationToken)
        {
            var doorbells = new List<DoorbellDeclaration>();
            foreach (AttributeData attribute in type.GetAttributes())
            {
                DoorbellModelKind kind;
                if (IsAttribute(attribute, KnownAttributes.Doorbell)) kind = DoorbellModelKind.Value;
                else if (IsAttribute(attribute, KnownAttributes.NotifyDoorbell)) kind = DoorbellModelKind.Notify;
                else if (IsAttribute(attribute, KnownAttributes.DoorbellArray)) kind = DoorbellModelKind.ValueArray;
                else continue;

                int count = 1;
                ulong stride = 0;
                if (!TryGetArgument(attribute, 0, out string? name)
                    || !TryGetArgument(attribute, 1, out ulong offset)
                    || !TryGetArgument(attribute, 2, out int width)
                    || (kind == DoorbellModelKind.ValueArray && (!TryGetArgument(attribute, 3, out count) || !TryGetArgument(attribute, 4, out stride))))
                {
                    bindable = false;
                    continue;
                }

                bool hasDataMatch = false;
                ulong dataMatch = kind == DoorbellModelKind.Notify ? GetNamed(attribute, "DataMatch", 0UL, ref bindable, out hasDataMatch) : 0;
                doorbells.Add(new DoorbellDeclaration
                {
                    DeclaredName = name ?? "",
                    Name = Identifiers.ToPascalCase(name),
                    Location = LocationOf(attribute, type, cancellationToken),
                    Kind = kind,
                    Offset = offset,
                    Width = width,
                    Count = count,
                    Stride = stride,
                    HasDataMatch = kind == DoorbellModelKind.Notify && hasDataMatch,
                    DataMatch = dataMatch,
                });
            }

            return doorbells;
        }

        /// <summary>
        /// Doorbell names become members of DoorbellIndex, ShadowLayout and DoorbellReader, arrays
        /// also "{Name}Count" and "{Name}Stride", next to ShadowLayout.Size: all must be distinct.
        /// </summary>
        private static void CheckDuplicateDoorbellNames(string typeName, List<DoorbellDeclaration> doorbells, List<Diagnostic> diagnostics)
        {
            var names = new HashSet<string> { "Size" };
            foreach (DoorbellDeclaration doorbell in doorbells)
            {
                if (doorbell.Name is null) continue;
                string[] generated = doorbell.Kind == DoorbellModelKind.ValueArray
                    ? [doorbell.Name, doorbell.Name + "Count", doorbell.Name + "Stride"]
                    : [doorbell.Name];
                bool clash = false;
                foreach (string name in generated) clash |= !names.Add(name);
                if (clash) diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.DuplicateName, doorbell.Location, doorbell.DeclaredName, typeName));
            }
        }

        private static BlockModel CreateModel(
            INamedTypeSymbol type, string blockName, ulong blockSize, int shadowLayoutSize, ulong shadowBase,
            List<RegisterDeclaration> registers, List<DoorbellDeclaration> doorbells, CancellationToken cancellationToken)
        {
            var doorbellModels = new List<DoorbellModel>();
            int row = 0;
            foreach (DoorbellDeclaration doorbell in doorbells)
            {
                doorbellModels.Add(new DoorbellModel
                {
                    DeclaredName = doorbell.DeclaredName,
                    Name = doorbell.Name!,
                    Kind = doorbell.Kind,
                    Offset = doorbell.Offset,
                    Width = doorbell.Width,
                    Count = doorbell.Count,
                    Stride = doorbell.Stride,
                    HasDataMatch = doorbell.HasDataMatch,
                    DataMatch = doorbell.DataMatch,
                    FirstRow = row,
                    ShadowOffset = doorbell.Kind == DoorbellModelKind.Notify ? -1 : (int)(doorbell.Offset - shadowBase),
                });
                row += doorbell.Count;
            }

            return new BlockModel
            {
                Namespace = type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : "",
                ContainingTypes = ContainingTypeDeclarations(type, cancellationToken),
                TypeName = NameWithTypeParameters(type),
                HintName = HintName(type),
                BlockName = blockName,
                Size = blockSize,
                ShadowLayoutSize = shadowLayoutSize,
                Registers = registers.Select(CreateRegister).ToEquatableArray(),
                Doorbells = doorbellModels.ToEquatableArray(),
                DoorbellRowCount = row,
            };
        }

        private static RegisterModel CreateRegister(RegisterDeclaration register)
        {
            // Reset composed from the fields: a field with its own Reset overrides those bits.
            ulong explicitFieldBits = 0;
            ulong fieldResets = 0;
            foreach (FieldDeclaration field in register.Fields)
            {
                if (!field.HasReset) continue;
                explicitFieldBits |= Widths.LowMask(field.Width) << field.Bit;
                fieldResets |= field.Reset << field.Bit;
            }

            return new RegisterModel
            {
                Name = register.Name,
                Modifiers = register.Modifiers,
                GetterModifiers = register.GetterModifiers,
                SetterModifiers = register.SetterModifiers,
                Offset = register.Offset,
                Width = register.Width,
                Access = (RegisterAccessMode)register.Access,
                Reset = (register.Reset & ~explicitFieldBits) | fieldResets,
                Fields = register.Fields.Select(static f => new FieldModel
                {
                    DeclaredName = f.DeclaredName,
                    Name = f.Name!,
                    Bit = f.Bit,
                    Width = f.Width,
                    Access = (FieldAccessMode)f.Access,
                    EnumType = f.EnumType?.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                }).ToEquatableArray(),
            };
        }

        /// <summary>
        /// Compares the attribute class with a ShadowIo attribute's metadata name by its parts, without
        /// formatting a display string for every attribute of every member.
        /// </summary>
        private static bool IsAttribute(AttributeData attribute, string metadataName)
        {
            if (attribute.AttributeClass is not { } type) return false;
            int dot = metadataName.LastIndexOf('.');
            return type.Name.Length == metadataName.Length - dot - 1
                && string.CompareOrdinal(type.Name, 0, metadataName, dot + 1, type.Name.Length) == 0
                && type.ContainingType is null
                && type.ContainingNamespace is { } ns
                && ns.Name.Length == dot
                && string.CompareOrdinal(ns.Name, 0, metadataName, 0, dot) == 0
                && ns.ContainingNamespace is { IsGlobalNamespace: true };
        }

        private static bool TryGetArgument<T>(AttributeData attribute, int index, out T value)
        {
            value = default!;
            if (attribute.ConstructorArguments.Length <= index) return false;
            TypedConstant argument = attribute.ConstructorArguments[index];
            if (argument.Kind == TypedConstantKind.Error) return false;
            if (argument.Value is T typed)
            {
                value = typed;
                return true;
            }

            // A null string argument is bindable; it just has no name.
            return argument.Value is null && default(T) is null;
        }

        private static T GetNamed<T>(AttributeData attribute, string name, T fallback, ref bool bindable, out bool present)
        {
            present = false;
            foreach (KeyValuePair<string, TypedConstant> pair in attribute.NamedArguments)
            {
                if (pair.Key != name) continue;
                present = true;
                if (pair.Value.Kind == TypedConstantKind.Error)
                {
                    bindable = false;
                    return fallback;
                }

                if (pair.Value.Value is T typed) return typed;
                if (pair.Value.Value is null && default(T) is null) return fallback;
                bindable = false;
                return fallback;
            }

            return fallback;
        }

        private static Location LocationOf(AttributeData attribute, ISymbol owner, CancellationToken cancellationToken) =>
            attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation()
            ?? owner.Locations.FirstOrDefault()
            ?? Location.None;

        private static bool IsPartialAndNotStatic(INamedTypeSymbol type, CancellationToken cancellationToken)
        {
            if (type.IsStatic || type.IsRecord || type.TypeKind != TypeKind.Class) return false;
            for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
            {
                bool partial = current.DeclaringSyntaxReferences.Length > 0;
                foreach (SyntaxReference reference in current.DeclaringSyntaxReferences)
                {
                    if (reference.GetSyntax(cancellationToken) is not TypeDeclarationSyntax declaration
                        || !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                    {
                        partial = false;
                    }
                }

                if (!partial) return false;
            }

            return true;
        }

        private static bool IsPartialPropertyDeclaration(IPropertySymbol property, PropertyDeclarationSyntax? syntax) =>
            syntax is not null
            && syntax.Modifiers.Any(SyntaxKind.PartialKeyword)
            && property.IsPartialDefinition
            && (property.PartialImplementationPart is null || IsGeneratedByUs(property.PartialImplementationPart))
            && !property.IsStatic
            && !property.IsIndexer
            && property.GetMethod is not null
            && property.SetMethod is { IsInitOnly: false }
            && !property.ReturnsByRef
            && !property.ReturnsByRefReadonly;

        /// <summary>
        /// The analyzer sees the compilation after generation, where the implementing part is ours;
        /// the generator sees it before, where an implementing part can only be the user's.
        /// </summary>
        private static bool IsGeneratedByUs(IPropertySymbol implementation) =>
            implementation.Locations.FirstOrDefault()?.SourceTree?.FilePath is { } path
            && path.Contains(nameof(RegisterBlockGenerator));

        private static string ModifiersWithoutPartial(SyntaxTokenList modifiers) =>
            string.Join(" ", modifiers.Where(static m => !m.IsKind(SyntaxKind.PartialKeyword)).Select(static m => m.Text));

        private static string AccessorModifiers(PropertyDeclarationSyntax? syntax, SyntaxKind kind)
        {
            AccessorDeclarationSyntax? accessor = syntax?.AccessorList?.Accessors.FirstOrDefault(a => a.IsKind(kind));
            return accessor is null ? "" : string.Join(" ", accessor.Modifiers.Select(static m => m.Text));
        }

        private static EquatableArray<string> ContainingTypeDeclarations(INamedTypeSymbol type, CancellationToken cancellationToken)
        {
            var declarations = new List<string>();
            for (INamedTypeSymbol? current = type.ContainingType; current is not null; current = current.ContainingType)
            {
                string keyword = current.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) switch
                {
                    RecordDeclarationSyntax record when record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) => "record struct",
                    RecordDeclarationSyntax => "record",
                    StructDeclarationSyntax => "struct",
                    InterfaceDeclarationSyntax => "interface",
                    _ => "class",
                };
                declarations.Insert(0, $"partial {keyword} {NameWithTypeParameters(current)}");
            }

            return declarations.ToEquatableArray();
        }

        private static string NameWithTypeParameters(INamedTypeSymbol type) =>
            type.TypeParameters.Length == 0
                ? type.Name
                : $"{type.Name}<{string.Join(", ", type.TypeParameters.Select(static p => p.Name))}>";

        private static string HintName(INamedTypeSymbol type)
        {
            var parts = new List<string>();
            for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
            {
                parts.Insert(0, current.TypeParameters.Length == 0 ? current.Name : $"{current.Name}_{current.TypeParameters.Length}");
            }

            if (type.ContainingNamespace is { IsGlobalNamespace: false } ns) parts.Insert(0, ns.ToDisplayString());
            return string.Join(".", parts) + ".g.cs";
        }
    }
}
