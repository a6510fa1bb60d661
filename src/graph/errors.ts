import type { Classification, GraphErrorBody } from './classify.js';

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
    options?: { cause?: unknown },
  ) {
    const code =
      graphError?.code === undefined
        ? ''
        : ` code ${graphError.code}${graphError.error_subcode ? `/${graphError.error_subcode}` : ''}`;
    const trace = graphError?.fbtrace_id ? ` fbtrace_id ${graphError.fbtrace_id}` : '';
    const detail = graphError?.message ? `: ${graphError.message}` : '';
    super(
      `${method} ${path} failed (${classification.kind}, HTTP ${status ?? 'none'}${code}${trace})${detail}`,
      options,
    );
  }

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

/** Paging went wrong in a way that retrying cannot fix: a repeating cursor, a page without `data`. */
export class GraphPagingError extends Error {
  override name = 'GraphPagingError';
}
