// Package schema is the one table of names of hybridgraph (DESIGN.md
// principle 2). Each entity, complex type and action parameter set lists
// its properties once: the Graph v1.0 name (camelCase), the Outlook REST
// v2.0 name (PascalCase, with the few renames of exchange-hybrid.md §1.3),
// the JSON kind, whether clients may write it, and which database column
// holds it. $select, $filter and $orderby (package odata), response shaping,
// the engine's validation and the gateway's Graph↔v2.0 translation
// (Translate) all read these tables, so no name is spelled twice.
//
// Items are stored as Graph-canonical JSON documents; ColumnValues derives
// the filterable and sortable columns from a document.
package schema
