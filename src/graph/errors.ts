import type { Classification, FailureFacts, GraphErrorBody } from './classify.js';

/** A failed Graph call after the retry policy gave up (or decided not to retry). Messages never carry the token. */
export class GraphRequestError extends Error {
  override name = 'GraphRequestError';

  constructor(
    readonly classification: Classification,
    readonly method: string,
    /** Path and query without the access token. */
    readonly path: string,
    readonly status: number | undefined,
    readonly graphError: GraphErrorBody | undefined,
    options?: { cause?: unknown; origin?: string; networkCode?: string | undefined; facts?: FailureFacts },
  ) {
    const code =
      graphError?.code === undefined
        ? ''
        : ` code ${graphError.code}${graphError.error_subcode ? `/${graphError.error_subcode}` : ''}`;
    const trace = graphError?.fbtrace_id ? ` fbtrace_id ${graphError.fbtrace_id}` : '';
    const detail = graphError?.message ? `: ${graphError.message}` : '';
    const network = options?.networkCode ? `, ${options.networkCode}` : '';
    super(
      `${method} ${path} failed (${classification.kind}, HTTP ${status ?? 'none'}${network}${code}${trace})${detail}`,
      options,
    );
    this.origin = options?.origin;
    this.networkCode = options?.networkCode;
    this.facts = options?.facts;
  }

  /** What the reply showed (status, content type, Graph error, network failure), for the retry rules. */
  readonly facts: FailureFacts | undefined;

  /** The host the request went to (no path, no token). */
  readonly origin: string | undefined;
  /** The system's code when no HTTP response arrived (ECONNREFUSED, ENOTFOUND, timeout, …). */
  readonly networkCode: string | undefined;

  get kind(): Classification['kind'] {
    return this.classification.kind;
  }
}

/** The token or its permissions are not usable: the whole account's run must stop (exit 3). */
export class GraphAuthError extends Error {
  override name = 'GraphAuthError';

  constructor(
    readonly request: GraphRequestError,
    readonly hint: string,
  ) {
    super(`Instagram rejected the access token: ${hint}. (${request.message})`, { cause: request });
  }
}

/** `--account <id>` names an account this token cannot read (Graph 100/33 or similar on the account call). */
export class AccountNotFoundError extends Error {
  override name = 'AccountNotFoundError';

  constructor(
    readonly account: string,
    readonly request: GraphRequestError,
  ) {
    const code = request.graphError?.code;
    const sub = request.graphError?.error_subcode;
    super(
      `account ${account} was not found, or this token cannot read it (Graph code ${code ?? '?'}${sub ? `/${sub}` : ''}). ` +
        "Use --account me for the token's own account; its id is the user_id of GET /me?fields=user_id,username",
      { cause: request },
    );
  }
}

/** Paging went wrong in a way that retrying cannot fix: a repeating cursor, a page without `data`. */
export class GraphPagingError extends Error {
  override name = 'GraphPagingError';
}

/**
 * A request that cannot be sent as configured: a header or URL fetch refuses to build, or a redirect (never followed:
 * the token would go along). Retrying cannot help; the message never quotes the header (it would hold the token).
 */
export class GraphConfigError extends Error {
  override name = 'GraphConfigError';
}

/**
 * The first call of a run was answered by something that is not the Graph API (an HTML page, a web server's 404):
 * `--base-url` points at the wrong host. Retrying cannot help; the message says what came back.
 */
export class NotGraphApiError extends Error {
  override name = 'NotGraphApiError';

  constructor(
    readonly baseUrl: string,
    readonly request: GraphRequestError,
    contentType: string | undefined,
  ) {
    super(
      `--base-url ${baseUrl} answered HTTP ${request.status ?? '?'}${contentType ? ` ${contentType}` : ''} to ` +
        `${request.method} ${request.path.split('?')[0] ?? ''}: it is not a Graph API; the default is https://graph.instagram.com`,
      { cause: request },
    );
  }
}
