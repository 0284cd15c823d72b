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
    /// <summary>
    /// The outcome of parsing one block: a model when valid, otherwise what its declarations still
    /// need generated (null when not even that can be generated), and every diagnostic found.
    /// </summary>
    internal readonly record struct ParseResult(BlockModel? Model, InvalidBlockModel? Invalid, ImmutableArray<Diagnostic> Diagnostics)
    {
        /// <summary>What the generator keeps of it: no diagnostics, no locations.</summary>
        public ParsedBlock ToParsedBlock() => new(Model, Invalid);
    }

    /// <summary>
    /// Reads a [RegisterBlock] class's attributes (symbols → <see cref="BlockModel"/>) and runs the
    /// layout and field checks. Shared by the generator, which keeps only the model, and by
    /// <see cref="RegisterBlockAnalyzer"/>, which reports the diagnostics. Never throws on user input:
    /// an attribute the compiler could not bind makes the block invalid without a diagnostic of
    /// ours (the compiler already reports it). For an invalid block it still builds the
    /// <see cref="InvalidBlockModel"/>, so the user's declarations compile and the analyzer runs.
    /// </summary>
    internal static class Parser
    {
        public static ParseResult Parse(INamedTypeSymbol type, CancellationToken cancellationToken)
        {
            var diagnostics = new List<Diagnostic>();
            AttributeData? blockAttribute = type.GetAttributes().FirstOrDefault(static a => AttributeReader.IsAttribute(a, KnownAttributes.RegisterBlock));
            if (blockAttribute is null) return new ParseResult(null, null, ImmutableArray<Diagnostic>.Empty);
            if (!AttributeReader.TryGetArgument(blockAttribute, 0, out string? blockName)
                || !AttributeReader.TryGetArgument(blockAttribute, 1, out ulong blockSize))
            {
                // The compiler reports the unbindable argument; the declarations still get their parts.
                bool ignored = true;
                List<RegisterDeclaration> declared = ReadRegisters(type, new List<Diagnostic>(), ref ignored, cancellationToken);
                return new ParseResult(null, InvalidBlock.Create(type, blockName ?? "", null, declared, cancellationToken), ImmutableArray<Diagnostic>.Empty);
            }

            bool bindable = true;
            int shadowSize = AttributeReader.GetNamed(blockAttribute, "ShadowSize", 4096, ref bindable, out _);
            int addressSpace = AttributeReader.GetNamed(blockAttribute, "AddressSpace", (int)AddressSpace.Mmio, ref bindable, out _);
            Location blockLocation = AttributeReader.LocationOf(blockAttribute, type, cancellationToken);

            if (!Declarations.IsPartialAndNotStatic(type, cancellationToken))
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

            NameChecks.Check(type, registers, diagnostics);
            LayoutChecks.CheckDoorbells(blockSize, doorbells, diagnostics);
            NameChecks.CheckDoorbells(type.Name, doorbells, diagnostics);
            int shadowLayoutSize = LayoutChecks.CheckShadowLayout(doorbells, shadowSize, diagnostics, out ulong shadowBase);
            LayoutChecks.CheckOverlaps(registers, doorbells, diagnostics);
            AddressSpaceChecks.Check(addressSpace, blockName ?? "", blockSize, blockLocation, registers, doorbells, diagnostics);

            BlockModel? model = bindable && diagnostics.Count == 0
                ? CreateModel(type, blockName ?? "", blockSize, (AddressSpace)addressSpace, shadowLayoutSize, shadowBase, registers, doorbells, cancellationToken)
                : null;
            InvalidBlockModel? invalid = model is null ? InvalidBlock.Create(type, blockName ?? "", blockSize, registers, cancellationToken) : null;
            return new ParseResult(model, invalid, diagnostics.ToImmutableArray());
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
                ImmutableArray<AttributeData> applied = property.GetAttributes();
                AttributeData? attribute = applied.FirstOrDefault(static a => AttributeReader.IsAttribute(a, KnownAttributes.Register));
                if (attribute is null)
                {
                    // A [Field] without [Register] would silently do nothing.
                    foreach (AttributeData stray in applied.Where(static a => AttributeReader.IsAttribute(a, KnownAttributes.Field)))
                    {
                        diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.AttributeWithoutEffect,
                            AttributeReader.LocationOf(stray, property, cancellationToken), "Field", property.Name, "the property has no [Register]"));
                    }

                    continue;
                }

                if (!AttributeReader.TryGetArgument(attribute, 0, out ulong offset) || !AttributeReader.TryGetArgument(attribute, 1, out int width))
                {
                    bindable = false;
                    continue;
                }

                var fields = new List<FieldDeclaration>();
                foreach (AttributeData fieldAttribute in applied)
                {
                    if (!AttributeReader.IsAttribute(fieldAttribute, KnownAttributes.Field)) continue;
                    FieldDeclaration? field = ReadField(fieldAttribute, property, ref bindable, cancellationToken);
                    if (field is not null) fields.Add(field);
                }

                // A property type the compiler could not resolve is its error (CS0246), not a mismatch of ours.
                bool unresolvedType = property.Type.TypeKind == TypeKind.Error;
                if (unresolvedType) bindable = false;

                var syntax = property.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as PropertyDeclarationSyntax;
                registers.Add(new RegisterDeclaration
                {
                    Name = property.Name,
                    Location = AttributeReader.LocationOf(attribute, property, cancellationToken),
                    Offset = offset,
                    Width = width,
                    Access = AttributeReader.GetNamed(attribute, "Access", 0, ref bindable, out _),
                    Reset = AttributeReader.GetNamed(attribute, "Reset", 0UL, ref bindable, out _),
                    PropertyType = property.Type.SpecialType,
                    PropertyTypeName = property.Type.ToDisplayString(),
                    IsPropertyTypeUnresolved = unresolvedType,
                    IsPartialDeclaration = Declarations.IsPartialPropertyDeclaration(property, syntax),
                    Modifiers = syntax is null ? "public" : Declarations.ModifiersWithoutPartial(syntax.Modifiers),
                    GetterModifiers = Declarations.AccessorModifiers(syntax, SyntaxKind.GetAccessorDeclaration),
                    SetterModifiers = Declarations.AccessorModifiers(syntax, SyntaxKind.SetAccessorDeclaration),
                    Fields = fields,
                });
            }

            return registers;
        }

        private static FieldDeclaration? ReadField(AttributeData attribute, IPropertySymbol property, ref bool bindable, CancellationToken cancellationToken)
        {
            if (!AttributeReader.TryGetArgument(attribute, 0, out string? name)
                || !AttributeReader.TryGetArgument(attribute, 1, out int bit)
                || !AttributeReader.TryGetArgument(attribute, 2, out int width))
            {
                bindable = false;
                return null;
            }

            ulong reset = AttributeReader.GetNamed(attribute, "Reset", 0UL, ref bindable, out bool hasReset);
            ITypeSymbol? enumType = AttributeReader.GetNamed<ITypeSymbol?>(attribute, "EnumType", null, ref bindable, out _);

            // typeof(a type that does not exist) binds to an error type: the compiler reports it
            // (CS0246); checking its members would report a second, wrong error of ours (SHIO019).
            if (enumType is { TypeKind: TypeKind.Error })
            {
                bindable = false;
                enumType = null;
            }
            return new FieldDeclaration
            {
                DeclaredName = name ?? "",
                Name = Identifiers.ToPascalCase(name),
                Location = AttributeReader.LocationOf(attribute, property, cancellationToken),
                Bit = bit,
                Width = width,
                Access = AttributeReader.GetNamed(attribute, "Access", 0, ref bindable, out _),
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
                if (AttributeReader.IsAttribute(attribute, KnownAttributes.Doorbell)) kind = DoorbellModelKind.Value;
                else if (AttributeReader.IsAttribute(attribute, KnownAttributes.NotifyDoorbell)) kind = DoorbellModelKind.Notify;
                else if (AttributeReader.IsAttribute(attribute, KnownAttributes.DoorbellArray)) kind = DoorbellModelKind.ValueArray;
                else continue;

                int count = 1;
                ulong stride = 0;
                if (!AttributeReader.TryGetArgument(attribute, 0, out string? name)
                    || !AttributeReader.TryGetArgument(attribute, 1, out ulong offset)
                    || !AttributeReader.TryGetArgument(attribute, 2, out int width)
                    || (kind == DoorbellModelKind.ValueArray && (!AttributeReader.TryGetArgument(attribute, 3, out count) || !AttributeReader.TryGetArgument(attribute, 4, out stride))))
                {
                    bindable = false;
                    continue;
                }

                bool hasDataMatch = false;
                ulong dataMatch = kind == DoorbellModelKind.Notify ? AttributeReader.GetNamed(attribute, "DataMatch", 0UL, ref bindable, out hasDataMatch) : 0;
                doorbells.Add(new DoorbellDeclaration
                {
                    DeclaredName = name ?? "",
                    Name = Identifiers.ToPascalCase(name),
                    Location = AttributeReader.LocationOf(attribute, type, cancellationToken),
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

        private static BlockModel CreateModel(
            INamedTypeSymbol type, string blockName, ulong blockSize, AddressSpace addressSpace, int shadowLayoutSize, ulong shadowBase,
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
                ContainingTypes = Declarations.ContainingTypeDeclarations(type, cancellationToken),
                TypeName = Declarations.NameWithTypeParameters(type),
                HintName = Declarations.HintName(type),
                BlockName = blockName,
                Size = blockSize,
                AddressSpace = addressSpace,
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
                Access = (RegisterAccess)register.Access,
                Reset = (register.Reset & ~explicitFieldBits) | fieldResets,
                Fields = register.Fields.Select(static f => new FieldModel
                {
                    DeclaredName = f.DeclaredName,
                    Name = f.Name!,
                    Bit = f.Bit,
                    Width = f.Width,
                    Access = (FieldAccess)f.Access,
                    EnumType = f.EnumType?.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                }).ToEquatableArray(),
            };
        }
    }
}
