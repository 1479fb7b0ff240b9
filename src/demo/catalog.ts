/**
 * Names of the demo data: the bureaus of a municipal government cloud (某市政务云)
 * and the information systems each one runs. System codes are
 * `<tenant code>-<abbreviation>-01`, e.g. `gaj-zhzx-01`, where the abbreviation
 * is a short pinyin abbreviation of the system name.
 */

export interface CatalogTenant {
  code: string;
  name: string;
  /** Relative number of VMs per system: large bureaus run larger systems. */
  scale: number;
  /** [abbreviation, name] of each information system. */
  systems: readonly (readonly [string, string])[];
}

export const DEMO_TENANTS: readonly CatalogTenant[] = [
  {
    code: 'gaj',
    name: '市公安局',
    scale: 2,
    systems: [
      ['zhzx', '警务指挥中心综合平台'],
      ['jcj', '110接处警系统'],
      ['hjgl', '户籍人口管理系统'],
      ['crj', '出入境证件办理系统'],
      ['jtgl', '交通管理综合应用平台'],
      ['spgx', '视频监控联网共享平台'],
      ['zfba', '执法办案管理系统'],
      ['jsgl', '监所管理信息系统'],
      ['zagl', '治安管理信息系统'],
      ['dbba', '网络安全等级保护备案系统'],
      ['jdcks', '机动车驾驶人考试预约系统'],
      ['gazw', '公安政务服务平台'],
    ],
  },
  {
    code: 'wjw',
    name: '市卫生健康委员会',
    scale: 1.5,
    systems: [
      ['qmjk', '全民健康信息平台'],
      ['jkda', '居民电子健康档案系统'],
      ['yygh', '预约挂号统一平台'],
      ['jbyf', '疾病预防控制信息系统'],
      ['fyjk', '妇幼健康信息系统'],
      ['ylzl', '医疗质量监管平台'],
      ['jcws', '基层卫生信息系统'],
      ['wsjd', '卫生监督执法系统'],
      ['yfjz', '预防接种管理系统'],
      ['jjdd', '120急救指挥调度系统'],
    ],
  },
  {
    code: 'rsj',
    name: '市人力资源和社会保障局',
    scale: 1.3,
    systems: [
      ['sbjb', '社会保险经办系统'],
      ['jyfw', '公共就业服务平台'],
      ['rsda', '人事档案管理系统'],
      ['ldjc', '劳动保障监察系统'],
      ['zcps', '职称评审管理系统'],
      ['sbk', '社会保障卡服务平台'],
      ['ldzc', '劳动人事争议仲裁系统'],
      ['jnpx', '职业技能培训管理系统'],
      ['qxjc', '根治欠薪监测预警平台'],
    ],
  },
  {
    code: 'zrzyj',
    name: '市自然资源和规划局',
    scale: 1.2,
    systems: [
      ['bdcdj', '不动产登记系统'],
      ['gtkj', '国土空间基础信息平台'],
      ['ghsp', '规划审批管理系统'],
      ['dcjc', '自然资源调查监测系统'],
      ['ydsp', '建设用地审批系统'],
      ['chdl', '测绘地理信息公共服务平台'],
      ['kczy', '矿产资源管理系统'],
      ['zfjc', '自然资源执法监察系统'],
    ],
  },
  {
    code: 'zjj',
    name: '市住房和城乡建设局',
    scale: 1,
    systems: [
      ['gcsp', '工程建设项目审批管理系统'],
      ['fwjy', '房屋交易网签备案系统'],
      ['zfbz', '住房保障管理系统'],
      ['jzsc', '建筑市场监管平台'],
      ['wygl', '物业管理服务平台'],
      ['zlaq', '建设工程质量安全监管系统'],
      ['wxzj', '住宅专项维修资金管理系统'],
      ['dxgx', '城市地下管线信息系统'],
    ],
  },
  {
    code: 'jyj',
    name: '市教育局',
    scale: 1,
    systems: [
      ['zhjy', '智慧教育云平台'],
      ['xjgl', '学籍管理系统'],
      ['ywzs', '义务教育招生报名系统'],
      ['jsgl', '教师管理信息系统'],
      ['kwgl', '考务管理系统'],
      ['xszz', '学生资助管理系统'],
      ['xyaq', '校园安全监管平台'],
      ['jyzy', '教育资源公共服务平台'],
    ],
  },
  {
    code: 'mzj',
    name: '市民政局',
    scale: 0.8,
    systems: [
      ['shjz', '社会救助管理系统'],
      ['hydj', '婚姻登记管理系统'],
      ['ylfw', '智慧养老服务平台'],
      ['shzz', '社会组织管理系统'],
      ['bzfw', '殡葬服务管理系统'],
      ['dmgl', '地名管理信息系统'],
      ['ltbt', '残疾人两项补贴管理系统'],
    ],
  },
  {
    code: 'czj',
    name: '市财政局',
    scale: 1,
    systems: [
      ['ysyth', '预算管理一体化系统'],
      ['gkzf', '国库集中支付系统'],
      ['zfcg', '政府采购管理平台'],
      ['fssr', '非税收入收缴系统'],
      ['zcgl', '行政事业单位资产管理系统'],
      ['zwgl', '政府债务管理系统'],
      ['dzpj', '财政电子票据系统'],
    ],
  },
  {
    code: 'scjgj',
    name: '市市场监督管理局',
    scale: 1,
    systems: [
      ['qydj', '企业登记注册系统'],
      ['xygs', '企业信用信息公示系统'],
      ['spaq', '食品安全监管平台'],
      ['tzsb', '特种设备安全监管系统'],
      ['jlgl', '计量管理系统'],
      ['bzfw', '标准化信息服务平台'],
      ['tsjb', '12315投诉举报处置系统'],
      ['ypjg', '药品经营监管系统'],
    ],
  },
  {
    code: 'sthjj',
    name: '市生态环境局',
    scale: 0.9,
    systems: [
      ['hjjc', '生态环境监测监控平台'],
      ['pwxk', '排污许可管理系统'],
      ['hpsp', '建设项目环评审批系统'],
      ['dqyj', '大气环境质量预警系统'],
      ['shjjc', '水环境质量监测系统'],
      ['gfgl', '固体废物管理信息系统'],
      ['hjzf', '生态环境执法监管系统'],
    ],
  },
  {
    code: 'jtysj',
    name: '市交通运输局',
    scale: 1,
    systems: [
      ['gjdd', '公交智能调度系统'],
      ['czgl', '出租汽车服务管理系统'],
      ['jtzf', '交通运输综合执法系统'],
      ['dlys', '道路运输管理信息系统'],
      ['glyh', '公路养护管理系统'],
      ['zhtc', '智慧停车管理平台'],
      ['wyc', '网络预约出租汽车监管平台'],
      ['cxfw', '交通出行信息服务平台'],
    ],
  },
  {
    code: 'ybj',
    name: '市医疗保障局',
    scale: 1.2,
    systems: [
      ['ybpt', '医疗保障信息平台'],
      ['ydjy', '异地就医结算系统'],
      ['jjjg', '医保基金智能监管系统'],
      ['ypcg', '药品和医用耗材招采管理系统'],
      ['mtb', '门诊慢特病管理系统'],
      ['dzpz', '医保电子凭证服务平台'],
      ['dbbx', '城乡居民大病保险系统'],
    ],
  },
  {
    code: 'yjglj',
    name: '市应急管理局',
    scale: 1,
    systems: [
      ['yjzh', '应急指挥综合平台'],
      ['whp', '危险化学品安全监管系统'],
      ['aqzf', '安全生产监管执法系统'],
      ['zhyj', '自然灾害监测预警系统'],
      ['yjzy', '应急资源管理系统'],
      ['slfh', '森林防火监测系统'],
      ['wzcb', '应急物资储备管理系统'],
    ],
  },
  {
    code: 'zsj',
    name: '市政务服务和数据管理局',
    scale: 1.8,
    systems: [
      ['xzsp', '行政审批服务平台'],
      ['zwfww', '政务服务网'],
      ['ywtb', '一网通办综合受理平台'],
      ['sjgx', '政务数据共享交换平台'],
      ['rkk', '人口基础信息库'],
      ['frk', '法人基础信息库'],
      ['rx12345', '12345政务服务便民热线系统'],
      ['dzzz', '电子证照库'],
      ['hcp', '政务服务好差评系统'],
      ['yggl', '政务云管理平台'],
    ],
  },
  {
    code: 'fgw',
    name: '市发展和改革委员会',
    scale: 0.9,
    systems: [
      ['tzxm', '投资项目在线审批监管平台'],
      ['xypt', '社会信用信息平台'],
      ['jgjc', '价格监测管理系统'],
      ['nhjc', '重点用能单位能耗在线监测系统'],
      ['zdxm', '重点项目管理系统'],
      ['ggzy', '公共资源交易平台'],
    ],
  },
  {
    code: 'nyncj',
    name: '市农业农村局',
    scale: 0.7,
    systems: [
      ['jtzc', '农村集体资产管理系统'],
      ['nyzf', '农业综合执法系统'],
      ['zlzs', '农产品质量安全追溯系统'],
      ['njbt', '农机购置补贴管理系统'],
      ['gbnt', '高标准农田管理系统'],
      ['dwfy', '动物疫病防控系统'],
    ],
  },
  {
    code: 'swj',
    name: '市水务局',
    scale: 0.8,
    systems: [
      ['syq', '水雨情监测系统'],
      ['fxkh', '防汛抗旱指挥系统'],
      ['gsgl', '城市供水管理系统'],
      ['psgw', '排水管网监测系统'],
      ['hzz', '河长制信息管理系统'],
      ['szy', '水资源管理系统'],
    ],
  },
  {
    code: 'cgj',
    name: '市城市管理和综合执法局',
    scale: 0.8,
    systems: [
      ['szcg', '数字城管平台'],
      ['hwjg', '环卫作业监管系统'],
      ['ldgl', '路灯照明管理系统'],
      ['zfba', '城管执法办案系统'],
      ['ljfl', '生活垃圾分类管理系统'],
      ['hwgg', '户外广告审批管理系统'],
      ['yllh', '园林绿化管理系统'],
    ],
  },
  {
    code: 'sfj',
    name: '市司法局',
    scale: 0.7,
    systems: [
      ['sqjz', '社区矫正管理系统'],
      ['ggfl', '公共法律服务平台'],
      ['rmtj', '人民调解信息系统'],
      ['xzfy', '行政复议应诉系统'],
      ['zfjd', '行政执法监督平台'],
    ],
  },
  {
    code: 'tjj',
    name: '市统计局',
    scale: 0.6,
    systems: [
      ['lwzb', '统计联网直报平台'],
      ['sjfb', '统计数据发布查询系统'],
      ['jjpc', '经济普查数据处理系统'],
      ['mlk', '基本单位名录库'],
    ],
  },
];

/** Discount rates (fraction of list price paid) that tenants are given. */
export const DEMO_DISCOUNT_RATES = ['1.0000', '0.9500', '0.9000', '0.8800', '0.8500', '0.8000'] as const;

/** A VM size: vCPU cores and memory in GB. */
export interface Flavor {
  name: string;
  cpu: number;
  memory: string;
}

/** Common flavors, smallest first; a resize moves one step up or down this list. */
export const DEMO_FLAVORS: readonly Flavor[] = [
  { name: '1c2g', cpu: 1, memory: '2' },
  { name: '2c4g', cpu: 2, memory: '4' },
  { name: '4c8g', cpu: 4, memory: '8' },
  { name: '8c16g', cpu: 8, memory: '16' },
  { name: '16c32g', cpu: 16, memory: '32' },
  { name: '16c64g', cpu: 16, memory: '64' },
];

/** A VM's role in its system, which sets its name, likely flavors and disk sizes (GB). */
export interface VmRole {
  name: string;
  /** Relative frequency among a system's VMs after its first app and db VMs. */
  weight: number;
  flavors: readonly string[];
  storage: readonly number[];
}

export const DEMO_ROLES: readonly VmRole[] = [
  { name: 'app', weight: 35, flavors: ['2c4g', '4c8g', '4c8g', '8c16g'], storage: [100, 200, 300] },
  { name: 'web', weight: 20, flavors: ['1c2g', '2c4g', '2c4g', '4c8g'], storage: [40, 50, 100] },
  { name: 'db', weight: 18, flavors: ['8c16g', '16c32g', '16c64g'], storage: [500, 800, 1000, 1500, 2000] },
  { name: 'cache', weight: 9, flavors: ['2c4g', '4c8g', '8c16g'], storage: [40, 100] },
  { name: 'mq', weight: 5, flavors: ['2c4g', '4c8g'], storage: [100, 200] },
  { name: 'file', weight: 8, flavors: ['2c4g', '4c8g'], storage: [1000, 1500, 2000] },
  { name: 'ops', weight: 5, flavors: ['1c2g', '2c4g'], storage: [40, 50] },
];
