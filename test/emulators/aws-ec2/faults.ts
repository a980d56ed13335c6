// EC2 error answers: `<Response><Errors><Error><Code/><Message/></Error></Errors>
// <RequestID/></Response>` on one line, with the HTTP status EC2 uses for the code.
import { escapeXml } from './xml.ts';

/** An error the emulator answers with. Thrown by the model, caught by the server. */
export class Ec2Fault extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = 'Ec2Fault';
    this.code = code;
    this.status = status;
  }
}

export function errorDocument(fault: Ec2Fault, requestId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Response><Errors><Error><Code>${escapeXml(fault.code)}</Code><Message>${escapeXml(fault.message)}</Message></Error></Errors>` +
    `<RequestID>${requestId}</RequestID></Response>`
  );
}

// The codes and messages below follow what EC2 answers (API reference error list and
// observed messages); the HTTP status is 400 unless noted.
export const fault = {
  authFailure: (why: string) => new Ec2Fault('AuthFailure', `AWS was not able to validate the provided access credentials (${why})`, 401),
  throttled: () => new Ec2Fault('RequestLimitExceeded', 'Request limit exceeded.', 503),
  internal: () => new Ec2Fault('InternalError', 'An internal error has occurred', 500),
  unavailable: () => new Ec2Fault('Unavailable', "The server is overloaded and can't handle the request", 503),
  invalidAction: (action: string) => new Ec2Fault('InvalidAction', `The action ${action} is not valid for this web service.`),
  missing: (param: string) => new Ec2Fault('MissingParameter', `The request must contain the parameter ${param}`),
  invalidValue: (param: string, value: string, why: string) =>
    new Ec2Fault('InvalidParameterValue', `Value (${value}) for parameter ${param} is invalid. ${why}`),
  combination: (message: string) => new Ec2Fault('InvalidParameterCombination', message),
  badFilter: (name: string) => new Ec2Fault('InvalidParameterValue', `The filter '${name}' is invalid`),
  badToken: () => new Ec2Fault('InvalidPaginationToken', 'The specified pagination token is not valid or is expired.'),
  tableNotFound: (id: string) => new Ec2Fault('InvalidRouteTableID.NotFound', `The routeTable ID '${id}' does not exist`),
  instanceNotFound: (id: string) => new Ec2Fault('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`),
  eniMalformed: (id: string) => new Ec2Fault('InvalidNetworkInterfaceID.Malformed', `Invalid id: "${id}" (expecting "eni-...")`),
  eniNotFound: (id: string) => new Ec2Fault('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`),
  multipleEnis: (id: string) =>
    new Ec2Fault('InvalidInstanceID', `There are multiple interfaces attached to instance '${id}'. Please specify an interface ID for the operation instead.`),
  routeExists: (dest: string) => new Ec2Fault('RouteAlreadyExists', `The route identified by ${dest} already exists.`),
  routeNotFound: (dest: string, table: string) =>
    new Ec2Fault('InvalidRoute.NotFound', `There is no route defined for '${dest}' in the route table ${table}. Use a valid route.`),
  routeLimit: () => new Ec2Fault('RouteLimitExceeded', 'The maximum number of routes has been reached.'),
  incorrectState: (id: string, state: string) =>
    new Ec2Fault('IncorrectInstanceState', `The instance '${id}' is not in a state from which it can be used (${state}).`),
  differentNetworks: (table: string, target: string) =>
    new Ec2Fault('InvalidParameterValue', `route table ${table} and network gateway ${target} belong to different networks`),
  localRoute: (dest: string, table: string) =>
    new Ec2Fault('InvalidParameterValue', `cannot remove or replace local route ${dest} in route table ${table}`),
} as const;
