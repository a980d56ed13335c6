// The VPC API's errors, as its reference lists them (HTTP status, Code, Message).
// Handlers throw ApiError; the server turns it into the JSON error body
// {RequestId, HostId, Code, Message, Recommend}.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** A per-entry failure inside a batch answer (CreateRouteEntries / DeleteRouteEntries). */
export interface BatchFailure {
  readonly code: string;
  readonly message: string;
}

export type BusyCode = 'IncorrectRouteEntryStatus' | 'TaskConflict' | 'OperationConflict';

const BUSY_MESSAGES: Readonly<Record<BusyCode, string>> = {
  IncorrectRouteEntryStatus: 'The vpc has NotStable routeEntry status.',
  TaskConflict: 'The operation is too frequent, please wait a moment and try again.',
  OperationConflict: 'Request was denied due to conflict with a previous request.',
};

export const apiErrors = {
  missingParameter: (name: string) =>
    new ApiError(400, 'MissingParameter', `The input parameter "${name}" that is mandatory for processing this request is not supplied.`),
  invalidParameter: (name: string, why: string) =>
    new ApiError(400, 'InvalidParameter', `The specified parameter "${name}" is not valid: ${why}.`),
  incompleteSignature: (why: string) =>
    new ApiError(400, 'IncompleteSignature', `The request signature does not conform to Aliyun standards. ${why}`),
  signatureDoesNotMatch: () =>
    new ApiError(400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.'),
  accessKeyNotFound: () => new ApiError(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.'),
  timestampExpired: () => new ApiError(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.'),
  nonceUsed: () => new ApiError(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.'),
  invalidVersion: () => new ApiError(400, 'InvalidVersion', 'Specified parameter Version is not valid.'),
  invalidAction: () => new ApiError(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.'),
  throttled: (status: number) => new ApiError(status, 'Throttling.User', 'Request was denied due to user flow control.'),
  internal: () =>
    new ApiError(500, 'InternalError', 'The request processing has failed due to some unknown error, exception or failure.'),
  unavailable: () => new ApiError(503, 'ServiceUnavailable', 'The request has failed due to a temporary failure of the server.'),

  /** CreateRouteEntries' own code for an entry without RouteTableId. */
  missingRouteTableId: () => new ApiError(400, 'MissingParam.RouteTableId', 'The parameter RouteTableId is missing.'),
  routeTableNotFound: () => new ApiError(404, 'InvalidRouteTableId.NotFound', 'Specified route table does not exist.'),
  /** DescribeRouteEntryList names a missing table differently from the mutations. */
  routeTableNotFoundForList: () => new ApiError(400, 'InvalidRouteTable.NotFound', 'The specified RouteTable was not found.'),
  vpcNotFound: () => new ApiError(404, 'InvalidVpcId.NotFound', 'Specified value of VpcId is not found in our record.'),
  nextHopNotFound: () => new ApiError(404, 'InvalidNextHopId.NotFound', 'Specified next hop does not exist.'),
  nextHopType: () => new ApiError(400, 'InvalidNextHopType', 'Specified parameter "NextHopType" is not valid'),
  cidrMalformed: () => new ApiError(400, 'InvalidCidrBlock.Malformed', 'Specified CIDR block is not valid.'),
  cidrNotAllowed: () => new ApiError(400, 'InvalidCidrBlock', 'Specified CIDR block is not valid.'),
  cidrDuplicate: () => new ApiError(400, 'InvalidCIDRBlock.Duplicate', 'Specified CIDR block is already exists.'),
  quotaExceeded: () => new ApiError(400, 'QuotaExceeded', 'Route entry quota exceeded in this route table.'),
  /** A write while an entry in the VPC is between states; the reference lists IncorrectRouteEntryStatus, callers also see the others. */
  vpcNotStable: (code: BusyCode = 'IncorrectRouteEntryStatus') => new ApiError(400, code, BUSY_MESSAGES[code]),
  entryStatus: () => new ApiError(400, 'IncorrectRouteEntryStatus', 'Specified routeEntry status error.'),
  taskConflict: () => new ApiError(400, 'TaskConflict', 'The operation is too frequent, please wait a moment and try again.'),
  entryNotFound: () => new ApiError(400, 'InvalidRouteEntry.NotFound', 'Route entry not exists.'),
  systemEntry: () => new ApiError(400, 'OperationDenied', 'Specified operation is denied as route entry type is system.'),
  nextHopNotChanged: () =>
    new ApiError(400, 'OperationDenied.NextHopNotChanged', 'The operation is not allowed because of NextHopNotChanged.'),
  illegalNextToken: () => new ApiError(400, 'IllegalParam.NextToken', 'User nextToken is illegal.'),
  filterUnderWrongType: () =>
    new ApiError(400, 'OperationFailed.FilterParamUnderWrongRouteType', 'Operation failed because only custom type support filter by routeEntryId or routeEntryName'),
} as const;

/** Batch answers carry their own per-entry codes (CreateRouteEntries / DeleteRouteEntries references). */
export const batchFailures = {
  duplicate: (cidr: string): BatchFailure => ({
    code: 'VPC_ROUTE_ENTRY_CIDR_BLOCK_DUPLICATE',
    message: `Specified CIDR block is already exists, entry.cidrBlock=${cidr}`,
  }),
  status: (): BatchFailure => ({ code: 'VPC_ROUTE_ENTRY_STATUS_ERROR', message: 'Specified routeEntry status error.' }),
  notExist: (): BatchFailure => ({ code: 'VPC_ROUTER_ENTRY_NOT_EXIST', message: 'vRouterEntry not exists' }),
  fromApiError: (err: ApiError): BatchFailure => ({ code: err.code, message: err.message }),
} as const;
