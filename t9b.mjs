import * as echarts from 'echarts';
const c = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 400, height: 300 });
c.setOption({ xAxis: { type: 'category', data: ['a','b'] }, yAxis: { type: 'value', scale: true, min: (e) => e.min - (e.max - e.min) * 0.08, max: (e) => e.max + (e.max - e.min) * 0.08 }, series: [{ type: 'candlestick', data: [[55337.9, 56427.4, 55337.9, 56427.4],[56396.8,56489,56396.8,56489],[54032.1,55379,54032.1,55409.3]] }] });
console.log(c.getModel().getComponent('yAxis').axis.scale.getExtent());
