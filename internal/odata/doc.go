// Package odata reads the OData query options of a collection request and
// shapes the items of the answer, for both API faces: Microsoft Graph v1.0
// (camelCase names, schema.Graph) and Outlook REST v2.0 (PascalCase names,
// schema.REST).
//
// The model is a pipeline with the schema in the middle:
//
//	url.Values ──Parse──► Query ──(Query.Store)──► store ──► items
//	                                                           │
//	response ◄── Shape / SelectList / Page / NextLink ◄─────────┘
//
// Parse validates $select, $filter, $orderby, $top, $skip and $count
// against one entity type of package schema and compiles $filter and
// $orderby to SQL over that type's columns: a WHERE expression with "?"
// placeholders and its arguments in order, ready for store.Query. Only
// schema columns can be named; every property name and enumeration member
// is looked up in the schema, never spelled here. The text of $filter and
// $orderby is parsed by github.com/CiscoM31/godata (behind a length cap,
// since its cost grows with the input); the tree it returns is translated by
// this package and never leaves it.
//
// Comparisons follow Exchange rather than SQL where the two differ: a
// property that is absent (a NULL column) never equals a value and is
// always "not equal" to one, so "subject ne 'x'" includes messages without
// a subject, and not(p) is always the exact complement of p. The compiler
// gets there by pushing not() down to the comparisons (De Morgan) so that
// no SQL NOT ever sees a NULL. Text comparisons are written plainly; the
// store's column collation decides case (Graph compares text without case;
// the SQLite store declares its text columns COLLATE NOCASE and leaves ids
// case-sensitive).
//
// $search (search.go) is passed to the store as a KQL query
// (store.Query.Search) after the refusals Graph makes: no $filter,
// $orderby or $skip beside it, messages only, at most 1,000 results,
// pages linked by $skiptoken.
//
// Paging is offset-based as in Outlook: @odata.nextLink repeats the request
// with $skip advanced by the page size (graph-api.md §3.3). The store is
// asked for one row more than the page so that the last page is known
// without counting.
//
// Errors are *httpserver.Error values with the codes Graph and Exchange use
// (graph-api.md §5, exchange-hybrid.md §1.4).
package odata
