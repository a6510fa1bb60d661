/**
 * Error bodies as graph.instagram.com writes them (contract §4). Each builder returns the HTTP status and the
 * JSON envelope; the server adds a fresh `fbtrace_id`.
 */
export interface GraphErrorReply {
  status: number;
  error: {
    message: string;
    type: string;
    code: number;
    error_subcode?: number;
    is_transient?: boolean;
    error_user_title?: string;
    error_user_msg?: string;
  };
}

export const graphErrors = {
  invalidToken: (): GraphErrorReply => ({
    status: 400,
    error: {
      message: 'Invalid OAuth access token - Cannot parse access token',
      type: 'OAuthException',
      code: 190,
    },
  }),
  missingToken: (): GraphErrorReply => ({
    status: 400,
    error: {
      message: 'An active access token must be used to query information about the current user.',
      type: 'OAuthException',
      code: 2500,
    },
  }),
  tokenExpired: (expiredAt: Date, now: Date): GraphErrorReply => ({
    status: 400,
    error: {
      message: `Error validating access token: Session has expired on ${expiredAt.toUTCString()}. The current time is ${now.toUTCString()}.`,
      type: 'OAuthException',
      code: 190,
      error_subcode: 463,
    },
  }),
  objectNotFound: (id: string): GraphErrorReply => ({
    status: 400,
    error: {
      message: `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation`,
      type: 'IGApiException',
      code: 100,
      error_subcode: 33,
    },
  }),
  unknownPath: (component: string): GraphErrorReply => ({
    status: 400,
    error: { message: `Unknown path components: /${component}`, type: 'IGApiException', code: 2500 },
  }),
  invalidParameter: (message: string): GraphErrorReply => ({
    status: 400,
    error: { message: `(#100) ${message}`, type: 'IGApiException', code: 100 },
  }),
  nonexistingField: (field: string, nodeType: string): GraphErrorReply => ({
    status: 400,
    error: {
      message: `(#100) Tried accessing nonexisting field (${field}) on node type (${nodeType})`,
      type: 'IGApiException',
      code: 100,
    },
  }),
  /** A message outside the 20 most recent, or unsent (contract §4.4: exact body unknown; configurable). */
  messageDeleted: (code: number, subcode: number | undefined): GraphErrorReply => ({
    status: 400,
    error: {
      message: 'The message has been deleted.',
      type: 'IGApiException',
      code,
      ...(subcode === undefined ? {} : { error_subcode: subcode }),
      is_transient: false,
    },
  }),
  throttled: (code: number): GraphErrorReply => ({
    status: code === 4 ? 403 : 400,
    error: {
      message:
        code === 80002
          ? '(#80002) There have been too many calls to this Instagram account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.'
          : code === 4
            ? '(#4) Application request limit reached'
            : code === 17
              ? '(#17) User request limit reached'
              : `(#${code}) Calls to this api have exceeded the rate limit.`,
      type: 'OAuthException',
      code,
      is_transient: true,
    },
  }),
  transient: (): GraphErrorReply => ({
    status: 500,
    error: {
      message: 'An unexpected error has occurred. Please retry your request later.',
      type: 'OAuthException',
      code: 2,
      is_transient: true,
    },
  }),
  reduceData: (): GraphErrorReply => ({
    status: 500,
    error: {
      message: "Please reduce the amount of data you're asking for, then retry your request",
      type: 'OAuthException',
      code: 1,
    },
  }),
};
