import type { LanguageId } from './language-registry';

/**
 * Tree-sitter queries per language, in the shape of the grammars' own `tags.scm`: each
 * pattern captures the whole definition (`@def.<kind>`) or reference (`@ref.<kind>`) and its
 * `@name`. When two patterns capture the same name (an arrow function is also a `const`),
 * the earlier pattern wins, so the specific ones come first.
 *
 * Changing a query changes what is cached: bump `EXTRACTOR_VERSION` with it.
 */
export const EXTRACTOR_VERSION = 2;

const TYPESCRIPT = `
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(function_signature name: (identifier) @name) @def.function
(class_declaration name: (type_identifier) @name) @def.class
(abstract_class_declaration name: (type_identifier) @name) @def.class
(interface_declaration name: (type_identifier) @name) @def.interface
(type_alias_declaration name: (type_identifier) @name) @def.type
(enum_declaration name: (identifier) @name) @def.enum
(internal_module name: (identifier) @name) @def.module
(method_definition name: [(property_identifier) (private_property_identifier)] @name) @def.method
(method_signature name: (property_identifier) @name) @def.method
(abstract_method_signature name: (property_identifier) @name) @def.method
(public_field_definition name: (property_identifier) @name value: [(arrow_function) (function_expression)]) @def.method
(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @def.function
(program (lexical_declaration (variable_declarator name: (identifier) @name)) @def.constant)
(program (export_statement declaration: (lexical_declaration (variable_declarator name: (identifier) @name)) @def.constant))
(call_expression function: (identifier) @name) @ref.call
(call_expression function: (member_expression property: (property_identifier) @name)) @ref.call
(new_expression constructor: (identifier) @name) @ref.class
(import_specifier name: (identifier) @name) @ref.import
((type_identifier) @name @ref.type)
`;

const JAVASCRIPT = `
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(class_declaration name: (identifier) @name) @def.class
(method_definition name: [(property_identifier) (private_property_identifier)] @name) @def.method
(field_definition property: (property_identifier) @name value: [(arrow_function) (function_expression)]) @def.method
(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression) (class)]) @def.function
(program (lexical_declaration (variable_declarator name: (identifier) @name)) @def.constant)
(program (export_statement declaration: (lexical_declaration (variable_declarator name: (identifier) @name)) @def.constant))
(assignment_expression left: (member_expression) right: (function_expression name: (identifier) @name)) @def.function
(assignment_expression left: (member_expression property: (property_identifier) @name) right: [(arrow_function) (function_expression)]) @def.function
(call_expression function: (identifier) @name) @ref.call
(call_expression function: (member_expression property: (property_identifier) @name)) @ref.call
(new_expression constructor: (identifier) @name) @ref.class
(import_specifier name: (identifier) @name) @ref.import
`;

const PYTHON = `
(class_definition name: (identifier) @name) @def.class
(function_definition name: (identifier) @name) @def.function
(module (expression_statement (assignment left: (identifier) @name)) @def.variable)
(call function: (identifier) @name) @ref.call
(call function: (attribute attribute: (identifier) @name)) @ref.call
(import_from_statement name: (dotted_name (identifier) @name)) @ref.import
(import_from_statement name: (aliased_import name: (dotted_name (identifier) @name))) @ref.import
`;

const GO = `
(function_declaration name: (identifier) @name) @def.function
(method_declaration name: (field_identifier) @name) @def.method
(method_elem name: (field_identifier) @name) @def.method
(type_spec name: (type_identifier) @name type: (struct_type)) @def.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @def.interface
(type_spec name: (type_identifier) @name) @def.type
(source_file (const_declaration (const_spec name: (identifier) @name) @def.constant))
(source_file (var_declaration (var_spec name: (identifier) @name) @def.variable))
(call_expression function: (identifier) @name) @ref.call
(call_expression function: (selector_expression field: (field_identifier) @name)) @ref.call
((type_identifier) @name @ref.type)
`;

const JAVA = `
(class_declaration name: (identifier) @name) @def.class
(interface_declaration name: (identifier) @name) @def.interface
(enum_declaration name: (identifier) @name) @def.enum
(record_declaration name: (identifier) @name) @def.class
(annotation_type_declaration name: (identifier) @name) @def.interface
(method_declaration name: (identifier) @name) @def.method
(constructor_declaration name: (identifier) @name) @def.constructor
(field_declaration declarator: (variable_declarator name: (identifier) @name)) @def.field
(enum_constant name: (identifier) @name) @def.constant
(method_invocation name: (identifier) @name) @ref.call
(object_creation_expression type: (type_identifier) @name) @ref.class
((type_identifier) @name @ref.type)
`;

/** The symbol query of each language with a grammar. */
export const SYMBOL_QUERIES: Readonly<Record<LanguageId, string>> = {
  typescript: TYPESCRIPT,
  tsx: TYPESCRIPT,
  javascript: JAVASCRIPT,
  python: PYTHON,
  go: GO,
  java: JAVA,
};
