// The words a redacted query shape may keep outside SQL data statements: language keywords and the
// vocabulary of the vector stores' APIs and clients. A word not listed here becomes `?`, so a
// list that is too short costs detail, never privacy. All entries are lower case.

const words = (text: string): ReadonlySet<string> => new Set(text.trim().split(/\s+/));

/** Words that start a SQL statement (PostgreSQL, MySQL, ClickHouse, CQL). */
export const SQL_VERBS = words(`
  select with insert update delete merge upsert values table truncate copy explain
  create drop alter grant revoke comment security reassign
  vacuum analyze analyse reindex cluster refresh checkpoint lock
  set show reset discard begin start commit rollback abort end savepoint release
  prepare execute deallocate declare fetch move close listen notify unlisten load import
  do call use describe desc optimize system attach detach exists rename kill watch check
  exchange undrop replace handler flush repair batch apply
`);

/**
 * Verbs whose statements name only tables, columns and functions, so their identifiers stay in the
 * shape. Other statements (GRANT, SET ROLE, CREATE USER, ALTER … OWNER TO, SHOW GRANTS FOR …) can
 * name users and roles: there, only keywords stay.
 */
export const SQL_DATA_VERBS = words(`
  select with insert update delete merge upsert values table truncate copy
  vacuum analyze analyse reindex cluster refresh lock describe desc optimize exists check
  prepare execute declare fetch move close call
`);

/** What may follow CREATE / DROP for a statement about data objects (identifiers kept). */
export const SQL_DATA_OBJECTS = words(`table index view sequence extension type function procedure trigger`);

/** Keywords kept in any SQL statement, and type names. */
export const SQL_KEYWORDS = words(`
  a abort absolute access action add admin after aggregate all also alter always analyse analyze and
  any array as asc asof assertion assignment asymmetric at attach attribute authorization backward
  before begin between bigint bigserial binary bit boolean bool both breadth by bypassrls bytea cache
  call called cascade cascaded case cast catalog chain char character characteristics check
  checkpoint class close cluster coalesce collate collation column columns comment comments commit
  committed compression concurrently configuration conflict connect connection constraint
  constraints content continue conversion copy cost create createdb createrole cross csv cube current
  current_catalog current_date current_role current_schema current_time current_timestamp
  current_user cursor cycle data database databases day deallocate dec decimal declare default
  defaults deferrable deferred definer delete delimiter delimiters depends depth desc describe detach
  dictionary disable discard distinct do document domain double drop each else empty enable encoding
  encrypted end engine enum escape event except exclude excluding exclusive execute exists explain
  expression extension external extract false family fetch filter final finalize first float float4
  float8 following for force foreign format forward freeze from full function functions generated
  global grant granted grants greatest group grouping groups halfvec handler having header hold hour
  identified identity if ilike immediate immutable implicit import in include including increment
  indent index indexes inherit inherits initially inline inner inout input insensitive insert instead
  int int2 int4 int8 integer intersect interval into invoker is isnull isolation join json jsonb key
  keys kill label language large last lateral leading leakproof least left level like limit list
  listen load local localtime localtimestamp location lock locked logged login mapping match matched
  materialized maxvalue merge method minute minvalue mode month move name names national natural
  nchar new next nfc nfd nfkc nfkd no nocreatedb nocreaterole noinherit nologin none nosuperuser not
  nothing notify notnull nowait null nullif nulls numeric object of off offset oids old on only
  operator option options or order ordinality others out outer over overlaps overlay overriding
  owned owner parallel parameter parser partial partition passing password plans policy position
  preceding precision prepare prepared preserve primary prior privileges procedural procedure
  procedures program publication quote range read real reassign recheck recursive ref references
  referencing refresh reindex relative release rename repeatable replace replica reset restart
  restrict return returning returns revoke right role roles rollback rollup routine routines row rows
  rule sample savepoint schema schemas scroll search second security select sequence sequences
  serial serializable server session session_user set setof sets settings share show similar simple
  skip smallint snapshot some sparsevec sql stable standalone start statement statistics stdin stdout
  storage stored strict strip subscription substring superuser support symmetric sysid system
  system_user table tables tablesample tablespace temp template temporary text then ties time
  timestamp timestamptz to top trailing transaction transform treat trigger trim true truncate
  trusted ttl type types uescape unbounded uncommitted unencrypted union unique unknown unlisten
  unlogged until update use user using uuid vacuum valid validate validator value values varchar
  variadic varying vector verbose version view views volatile when where whitespace window with
  within without work wrapper write xml year yes zone
  array join final prewhere global any sample settings format engine ttl partition
  uint8 uint16 uint32 uint64 int16 int32 int64 float32 float64 string fixedstring datetime datetime64
  date32 lowcardinality nullable tuple map nested mergetree replacingmergetree
  count sum avg min max now coalesce l2_distance cosine_distance inner_product l1_distance
  hamming_distance jaccard_distance l2distance cosinedistance vector_dims
`);

/** ClickHouse input formats, kept after `INSERT … FORMAT`. */
export const CLICKHOUSE_FORMATS = words(`
  values csv csvwithnames csvwithnamesandtypes tsv tabseparated tabseparatedwithnames
  tabseparatedwithnamesandtypes tsvwithnames tsvraw json jsoneachrow jsonstringseachrow
  jsoncompacteachrow jsoncompacteachrowwithnames jsonlines ndjson jsoncolumns jsonobjecteachrow
  tskv native rowbinary rowbinarywithnames parquet arrow arrowstream orc avro protobuf capnproto
  msgpack template customseparated regexp rawblob linesasstring bsoneachrow npy
`);

/** HTTP methods, kept after `curl -X` and at the start of a request line. */
export const HTTP_METHODS = words(`get post put patch delete head options`);

/**
 * Path segments and query parameter names of the vector stores' REST APIs (Qdrant, Weaviate,
 * Milvus, Chroma, Pinecone) and of OpenSearch / Elasticsearch. Collection and object names are
 * not listed: they become `?` (the event's `collection` field carries the collection).
 */
export const REST_WORDS = words(`
  api v1 v2 v3 vectordb vector vectors collections collection points search query recommend discover
  batch groups scroll delete payload clear overwrite aliases alias index indexes snapshots snapshot
  cluster telemetry metrics healthz readyz livez locks issues shards shard count facet
  objects object graphql schema users user authz roles backups backup nodes replication
  classifications validate tenants tenant properties references meta well-known ready live openid
  entities get insert upsert update list describe has load release partitions partition create drop
  rename flush compact alter databases database aliases jobs import
  add modify records namespaces describe_index_stats fetch
  _search _doc _bulk _count _mapping _mappings _settings _msearch _knn_search _update _delete_by_query
  _update_by_query _cat _cluster _nodes _aliases _refresh _source _query
  limit offset consistency_level class tenant wait ordering timeout include after sort pretty
  format top_k topk namespace
`);

/**
 * Keys of the JSON bodies sent to the vector stores' REST APIs, of MongoDB commands and of the
 * OpenSearch / Elasticsearch query DSL. Keys of payloads and metadata are the user's own and
 * become `?`.
 */
export const JSON_KEYS = words(`
  vector vectors sparse_vector sparsevector query query_vector queryvector filter must should must_not
  min_should key match value values any except text range gt gte lt lte geo_bounding_box geo_radius
  geo_polygon values_count is_empty is_null has_id has_vector nested
  limit offset top topk top_k k n_results nresults num_candidates numcandidates size from
  with_payload with_vector with_vectors with_lookup score_threshold using prefetch fusion rrf
  lookup_from params hnsw_ef exact quantization rescore oversampling ignore indexed_only
  points point id ids payload batch searches operations upsert delete set_payload overwrite_payload
  delete_payload clear_payload update_vectors delete_vectors group_by group_size positive negative
  strategy target context order_by direction start_from
  collection_name collectionname collection collections name dimension dim metric metric_type
  metrictype distance on_disk hnsw_config ef ef_construct m full_scan_threshold
  quantization_config scalar product binary type quantile always_ram optimizers_config
  wal_config shard_number replication_factor write_consistency_factor sparse_vectors
  vectors_config multivector_config datatype
  annsfield anns_field outputfields output_fields searchparams search_params metrictype nprobe
  partitionnames partition_names data fields schema indexparams index_params primaryfield
  vectorfield idtype autoid auto_id enabledynamicfield consistencylevel
  where where_document include embeddings documents metadatas query_embeddings query_texts
  uris ids_only configuration
  namespace includemetadata includevalues includeinclude sparsevalues indices
  class classes properties tenant tenants objects object additional vectorizer moduleconfig
  vectorindexconfig vectorindextype invertedindexconfig match operator path valuetext valuestring
  valueint valuenumber valueboolean valuedate
  find aggregate pipeline projection sort skip hint count distinct insert update updates deletes
  documents cursor batchsize getmore firstbatch nextbatch ns upsert multi q u
  bool term terms wildcard prefix regexp fuzzy exists match_all match_phrase multi_match
  query_string simple_query_string knn field fields _source aggs aggregations script script_score
  source boost minimum_should_match function_score rank docs doc index
  true false null
`);

/** MongoDB operators, kept as JSON keys (`$match`, `$eq`, …). */
export const MONGO_OPERATORS = words(`
  $match $group $project $sort $limit $skip $lookup $unwind $count $facet $sample $out $merge
  $addfields $set $unset $replaceroot $replacewith $search $vectorsearch $searchmeta $unionwith
  $bucket $graphlookup $densify $fill $redact $sortbycount
  $eq $ne $gt $gte $lt $lte $in $nin $and $or $not $nor $exists $type $regex $options $text $where
  $all $elemmatch $size $mod $expr $jsonschema $near $geowithin $geointersects
  $inc $mul $rename $setoninsert $min $max $currentdate $push $pull $pullall $addtoset $pop $each
  $position $slice $meta $sum $avg $first $last $oid $date $numberlong $numberint $numberdecimal
  $binary $uuid
`);

/** Commands whose name a shell shape keeps. */
export const SHELL_COMMANDS = words(`
  curl wget http https httpie grpcurl psql pg_dump pg_dumpall pg_restore mysql mysqldump mongosh
  mongo mongodump mongoexport redis-cli clickhouse clickhouse-client cqlsh python python3 node npx
  deno bun jq yq echo printf cat head tail grep egrep sed awk sort uniq wc cut tr tee xargs base64
  gzip gunzip zcat tar ls cd pwd env export sudo time timeout exec nohup watch sleep true false test
  set unset source for do done while if then else fi kubectl docker aws gcloud az
`);

/** Commands that run the command named by their first argument that is not an option. */
export const SHELL_WRAPPERS = words(`sudo env time timeout exec nohup xargs watch`);

/** Long options of the commands above, kept with their value replaced (`--data=?`). */
export const SHELL_LONG_OPTIONS = words(`
  request header data data-raw data-binary data-ascii data-urlencode json form form-string get head
  user oauth2-bearer output silent show-error fail fail-with-body location insecure compressed
  max-time connect-timeout user-agent cacert capath cert key include verbose retry retry-delay
  http1.1 http2 url proxy cookie cookie-jar referer upload-file write-out no-progress-meter
  header-file post-data post-file method body-data quiet no-check-certificate output-document
  host port username dbname command file no-password password no-align tuples-only field-separator
  set variable quiet echo-all single-transaction database execute batch raw skip-column-names
  query format multiquery multiline eval norc shell
`);

/** Python and JavaScript keywords: adjacent to a name they are well-formed code (`import x`). */
export const CODE_KEYWORDS = words(`
  and as assert async await break class continue def del elif else except finally for from global
  if import in is lambda nonlocal not or pass raise return try while with yield match case
  const let var function new typeof instanceof void delete throw catch do switch default export
  extends static get set of this super debugger
`);

/**
 * Names kept in client scripts: keywords, literals and common built-ins, and the vector stores'
 * client classes, methods and keyword arguments (variables and the user's own names become `?`).
 */
export const CODE_WORDS = new Set([
  ...CODE_KEYWORDS,
  ...words(`
  none true false null undefined self print len range list dict str int float bool open json os
  environ getenv loads dumps require module exports console log process env then
  requests httpx session client get post put patch delete headers json data params timeout
  qdrant_client qdrantclient asyncqdrantclient models pointstruct filter fieldcondition matchvalue
  matchany range vectorparams distance cosine euclid dot searchrequest queryrequest
  pymilvus milvusclient connections collection fieldschema collectionschema datatype
  weaviate connect_to_local connect_to_custom connect_to_weaviate_cloud connect_to_wcs auth
  classes collections query near_vector near_text near_object near_image hybrid bm25 fetch_objects
  fetch_object_by_id fetch_objects_by_ids aggregate over_all data insert insert_many
  chromadb httpclient persistentclient chromaclient get_collection get_or_create_collection
  create_collection delete_collection add upsert update count peek
  pinecone index describe_index_stats namespace
  search search_batch search_groups query_points query_batch_points query_points_groups recommend
  discover hybrid_search similarity_search retrieve scroll query_iterator search_iterator iterator
  upload_points upload_collection upload_records set_payload overwrite_payload update_vectors
  delete_by_id delete_many delete_vectors delete_payload clear_payload recreate_collection
  drop_collection create_index create_payload_index drop_index load_collection release_collection
  create_user drop_user create_role grant_role revoke_role grant_privilege revoke_privilege
  collection_name collectionname name query_vector query_filter vector vectors limit top_k topk k
  n_results offset with_payload with_vectors score_threshold filter expr output_fields anns_field
  search_params param metric_type params partition_names where where_document include
  query_texts query_embeddings embeddings documents metadatas ids id payload points namespace
  include_metadata includemetadata include_values includevalues return_metadata return_properties
  target_vector certainty alpha url host port api_key grpc_port https prefer_grpc
  must should must_not key match value
  `),
]);
