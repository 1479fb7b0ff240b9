import { Type } from 'typebox';

/** Schemas shared by several route groups. */

export const DecimalString = Type.String({
  pattern: '^-?\\d+(\\.\\d+)?$',
  description: '精确十进制数 / exact decimal',
});
export const DecimalInput = Type.Union([Type.String({ maxLength: 40 }), Type.Number()], {
  description: '十进制数，可为字符串或数字 / decimal as a string or number',
});
export const DateString = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });
export const DateTimeString = Type.String({ format: 'date-time' });
export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });

export const ErrorResponse = Type.Object(
  {
    code: Type.String({ description: '稳定的错误码 / stable error code' }),
    message: Type.String({ description: '按 Accept-Language 的提示 / message in the caller language' }),
    details: Type.Optional(
      Type.Array(
        Type.Object({
          field: Type.String({
            description:
              '字段名；违反 JSON Schema 时带请求部分前缀，如 body.cpu、querystring.page / ' +
              'field name, prefixed with the request part for a JSON Schema violation, e.g. body.cpu or querystring.page',
          }),
          code: Type.String({
            description:
              '业务规则的错误码，或违反的 JSON Schema 关键字（如 minimum、required；可取多种类型或取值的字段为 anyOf）/ ' +
              'error code of a rule, or the JSON Schema keyword violated (e.g. minimum, required; anyOf for a field that takes one of several types or values)',
          }),
          message: Type.String({
            description:
              '按 Accept-Language 的提示；违反 JSON Schema 时说明期望的值与收到的值，密钥字段不显示收到的值 / ' +
              'message in the caller language; for a JSON Schema violation, the expected and the received value, which secret fields never show',
          }),
        }),
      ),
    ),
  },
  { $id: 'Error' },
);

/** The error responses every authenticated route can return. */
export const errorResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
};
