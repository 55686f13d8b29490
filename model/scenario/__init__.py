"""The scenario layer: the schema, routes, YAML loading with ``extends`` and validation, cross-field
checks, plain-language messages, scenario differences and uncertain inputs.
"""
